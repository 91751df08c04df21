/* The YouTube Studio CSV import (by date, English or Portuguese headers),
 * its parsing half: every row kept is a checked DAY row, one a day, in date
 * order; every rejected line has a reason. */
#include "services/analytics_import.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena a;
    arena_init(&a, 4096);
    analytics_import_report rep;
    analytics_import__rows rows;
    error err;
    if (analytics_import__parse(&a, "0190a3d1-0000-7000-8000-000000000001",
                                "0190a3d1-0000-7000-8000-000000000002", (const char *)data, size,
                                &rep, &rows, &err) == 0) {
        FUZZ_CHECK(rows.n > 0);
        for (size_t i = 0; i < rows.n; i++) {
            FUZZ_CHECK(i == 0 || rows.rows[i].day > rows.rows[i - 1].day);
            FUZZ_CHECK(rows.rows[i].r.views >= 0 && rows.rows[i].r.likes >= 0);
        }
    } else {
        FUZZ_CHECK(rows.n == 0);
    }
    for (size_t i = 0; i < rep.n_rejected; i++)
        FUZZ_CHECK(rep.rejected[i].reason != NULL && rep.rejected[i].line > 0);
    arena_free(&a);
    return 0;
}
