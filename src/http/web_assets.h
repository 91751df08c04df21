/*
 * web_assets: the dashboard's files (web/ in the source tree), embedded in
 * the binary at build time by cmake/embed_web.cmake, so `pstudio serve`
 * serves its own dashboard with nothing beside it. Private to http/.
 */
#ifndef PS_HTTP_WEB_ASSETS_H
#define PS_HTTP_WEB_ASSETS_H

typedef struct web_asset {
    const char *path;         /* "/index.html", "/app/main.js", "/vendor/preact/preact.mjs" */
    const char *content_type; /* with a charset for text */
    const char *etag;         /* a strong validator, quoted: "\"<20 hex of SHA-256>\"" */
    const char *data;         /* NUL-terminated past len */
    unsigned long len;
} web_asset;

/* Sorted by path (the build sorts them); web_assets_count entries. */
extern const web_asset web_assets[];
extern const int web_assets_count;

#endif
