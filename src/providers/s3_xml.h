/*
 * s3_xml: the XML bodies an S3-compatible service answers with, read with
 * expat: an <Error> (its Code and Message), the UploadId of a multipart
 * upload (and whether the answer is an <Error> after all, as a completion
 * answered 200 may be), and one page of ListObjectsV2. Pure (no network, no
 * files), so fuzz/ throws hostile bodies at it; media_store_s3.c makes the
 * calls. Element text is read up to 4 KiB; longer text is cut, never
 * overrun. Every reader returns false when the body is not well-formed XML;
 * what it read before the fault stays in *out.
 */
#ifndef PS_PROVIDERS_S3_XML_H
#define PS_PROVIDERS_S3_XML_H

#include <stdbool.h>
#include <stddef.h>

typedef struct s3_xml_error {
    char code[96]; /* "NoSuchBucket"; "" when none */
    char message[256];
} s3_xml_error;

typedef struct s3_xml_upload {
    char id[1024]; /* InitiateMultipartUploadResult/UploadId; "" when none */
    bool error_seen;
} s3_xml_upload;

/* One page of ListObjectsV2: keys and common prefixes. */
typedef struct s3_xml_page {
    char **items; /* keys, or common prefixes when delimited; owned, s3_xml_page_free */
    size_t n, cap;
    bool delimited; /* set by the caller before reading */
    bool truncated;
    char next[1024]; /* NextContinuationToken; "" when none */
} s3_xml_page;

bool s3_xml_read_error(const char *body, size_t len, s3_xml_error *out);
bool s3_xml_read_upload(const char *body, size_t len, s3_xml_upload *out);
/** Appends the page's items to out (out->delimited says which). */
bool s3_xml_read_list(const char *body, size_t len, s3_xml_page *out);
void s3_xml_page_free(s3_xml_page *p);

#endif
