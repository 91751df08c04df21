#include "base/lang.h"

#include <ctype.h>
#include <string.h>

bool lang_is_bcp47(const char *s)
{
    size_t sub = 0, len = 0;
    if (strlen(s) > 35)
        return false;
    for (const char *c = s;; c++) {
        if (*c == '-' || *c == '\0') {
            if (len < 1 || len > 8 || (sub == 0 && len < 2))
                return false;
            if (*c == '\0')
                return true;
            sub++;
            len = 0;
            continue;
        }
        unsigned char u = (unsigned char)*c;
        if (u >= 0x80 || !(isalpha(u) || (sub > 0 && isdigit(u))))
            return false;
        len++;
    }
}
