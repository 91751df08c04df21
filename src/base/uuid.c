#include "base/uuid.h"

#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* The last timestamp and counter handed out, shared by all threads so ids are
 * monotonic process-wide (RFC 9562 §6.2 method 1: a 12-bit counter in rand_a,
 * seeded randomly each new millisecond with its top bit clear to leave room). */
static pthread_mutex_t uuid__lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t uuid__last_ms;
static uint32_t uuid__counter;

static uint64_t uuid__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void uuid_v7(char out[UUID_STR_LEN + 1])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof(b));

    pthread_mutex_lock(&uuid__lock);
    uint64_t ms = uuid__now_ms();
    if (ms > uuid__last_ms) {
        uuid__last_ms = ms;
        uuid__counter = randombytes_uniform(0x800);
    } else {
        /* Same millisecond (or the clock stepped back): keep the last time and
         * count up. On counter overflow borrow the next millisecond. */
        ms = uuid__last_ms;
        if (++uuid__counter > 0xfff) {
            uuid__last_ms = ++ms;
            uuid__counter = 0;
        }
    }
    uint32_t counter = uuid__counter;
    pthread_mutex_unlock(&uuid__lock);

    b[0] = (unsigned char)(ms >> 40);
    b[1] = (unsigned char)(ms >> 32);
    b[2] = (unsigned char)(ms >> 24);
    b[3] = (unsigned char)(ms >> 16);
    b[4] = (unsigned char)(ms >> 8);
    b[5] = (unsigned char)ms;
    b[6] = (unsigned char)(0x70 | ((counter >> 8) & 0x0f));
    b[7] = (unsigned char)(counter & 0xff);
    b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));

    static const char hex[] = "0123456789abcdef";
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[b[i] >> 4];
        *p++ = hex[b[i] & 0x0f];
    }
    *p = '\0';
}

bool uuid_is_valid(const char *s)
{
    if (s == NULL || strlen(s) != UUID_STR_LEN)
        return false;
    for (int i = 0; i < UUID_STR_LEN; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}
