/* The XML an S3-compatible service answers with: one body read as an
 * <Error>, as a multipart UploadId and as a ListObjectsV2 page (keys, then
 * common prefixes), as media_store_s3.c reads them. */
#include "providers/s3_xml.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    s3_xml_error e = {.code = ""};
    s3_xml_read_error(body, size, &e);
    FUZZ_CHECK(memchr(e.code, '\0', sizeof(e.code)) && memchr(e.message, '\0', sizeof(e.message)));
    s3_xml_upload u = {.error_seen = false};
    s3_xml_read_upload(body, size, &u);
    FUZZ_CHECK(memchr(u.id, '\0', sizeof(u.id)) != NULL);
    for (int delimited = 0; delimited < 2; delimited++) {
        s3_xml_page p;
        memset(&p, 0, sizeof(p));
        p.delimited = delimited;
        s3_xml_read_list(body, size, &p);
        FUZZ_CHECK(p.n <= p.cap && memchr(p.next, '\0', sizeof(p.next)) != NULL);
        for (size_t i = 0; i < p.n; i++)
            FUZZ_CHECK(p.items[i] != NULL);
        s3_xml_page_free(&p);
    }
    return 0;
}
