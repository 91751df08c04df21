#include "providers/s3_xml.h"

#include "base/alloc.h"

#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Calls on_text(parent, name, text) at the end of every element, with the
 * element's own text (capped at 4 KiB). */
typedef struct s3_xml__state {
    void (*on_text)(void *ctx, const char *parent, const char *name, const char *text);
    void *ctx;
    char stack[8][64];
    int depth;
    char text[4096];
    size_t text_len;
} s3_xml__state;

static void XMLCALL s3_xml__start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    (void)attrs;
    s3_xml__state *x = ud;
    if (x->depth < 8)
        snprintf(x->stack[x->depth], sizeof(x->stack[0]), "%s", name);
    x->depth++;
    x->text_len = 0;
    x->text[0] = '\0';
}

static void XMLCALL s3_xml__end(void *ud, const XML_Char *name)
{
    s3_xml__state *x = ud;
    const char *parent = x->depth >= 2 && x->depth - 2 < 8 ? x->stack[x->depth - 2] : "";
    x->on_text(x->ctx, parent, name, x->text);
    x->depth--;
    x->text_len = 0;
    x->text[0] = '\0';
}

static void XMLCALL s3_xml__chars(void *ud, const XML_Char *s, int len)
{
    s3_xml__state *x = ud;
    size_t n = (size_t)len;
    if (x->text_len + n >= sizeof(x->text))
        n = sizeof(x->text) - 1 - x->text_len;
    memcpy(x->text + x->text_len, s, n);
    x->text_len += n;
    x->text[x->text_len] = '\0';
}

/* Parses body; false when it is not well-formed XML. */
static bool s3_xml__parse(const char *body, size_t len,
                          void (*on_text)(void *, const char *, const char *, const char *),
                          void *ctx)
{
    XML_Parser p = XML_ParserCreate("UTF-8");
    if (p == NULL)
        return false;
    s3_xml__state x = {.on_text = on_text, .ctx = ctx};
    XML_SetUserData(p, &x);
    XML_SetElementHandler(p, s3_xml__start, s3_xml__end);
    XML_SetCharacterDataHandler(p, s3_xml__chars);
    bool ok = XML_Parse(p, body, (int)len, 1) == XML_STATUS_OK;
    XML_ParserFree(p);
    return ok;
}

static void s3_xml__on_error(void *ctx, const char *parent, const char *name, const char *text)
{
    s3_xml_error *e = ctx;
    if (strcmp(parent, "Error") != 0)
        return;
    if (strcmp(name, "Code") == 0)
        snprintf(e->code, sizeof(e->code), "%s", text);
    else if (strcmp(name, "Message") == 0)
        snprintf(e->message, sizeof(e->message), "%s", text);
}

static void s3_xml__on_upload(void *ctx, const char *parent, const char *name, const char *text)
{
    s3_xml_upload *u = ctx;
    if (strcmp(parent, "InitiateMultipartUploadResult") == 0 && strcmp(name, "UploadId") == 0)
        snprintf(u->id, sizeof(u->id), "%s", text);
    if (strcmp(name, "Error") == 0)
        u->error_seen = true;
}

static void s3_xml__on_list(void *ctx, const char *parent, const char *name, const char *text)
{
    s3_xml_page *p = ctx;
    bool item = p->delimited ? strcmp(parent, "CommonPrefixes") == 0 && strcmp(name, "Prefix") == 0
                             : strcmp(parent, "Contents") == 0 && strcmp(name, "Key") == 0;
    if (item) {
        if (p->n == p->cap) {
            p->cap = p->cap ? p->cap * 2 : 64;
            p->items = xrealloc(p->items, p->cap * sizeof(char *));
        }
        p->items[p->n++] = xstrdup(text);
    } else if (strcmp(parent, "ListBucketResult") == 0 && strcmp(name, "IsTruncated") == 0) {
        p->truncated = strcmp(text, "true") == 0;
    } else if (strcmp(parent, "ListBucketResult") == 0 &&
               strcmp(name, "NextContinuationToken") == 0) {
        snprintf(p->next, sizeof(p->next), "%s", text);
    }
}

void s3_xml_page_free(s3_xml_page *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->items[i]);
    free(p->items);
    memset(p, 0, sizeof(*p));
}

bool s3_xml_read_error(const char *body, size_t len, s3_xml_error *out)
{
    return s3_xml__parse(body, len, s3_xml__on_error, out);
}

bool s3_xml_read_upload(const char *body, size_t len, s3_xml_upload *out)
{
    return s3_xml__parse(body, len, s3_xml__on_upload, out);
}

bool s3_xml_read_list(const char *body, size_t len, s3_xml_page *out)
{
    return s3_xml__parse(body, len, s3_xml__on_list, out);
}
