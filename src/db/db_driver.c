#include "db/db_driver.h"

#include <stdarg.h>
#include <stdio.h>

int db_driver_set_error(db_error *err, db_fault fault, const char *fmt, ...)
{
    if (err == NULL)
        return DB_ERR;
    err->fault = fault;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return DB_ERR;
}
