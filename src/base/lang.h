/*
 * lang: language tags. Personas and generation requests name a language as
 * a BCP-47 tag in the shape the model providers and espeak-ng understand.
 */
#ifndef PS_BASE_LANG_H
#define PS_BASE_LANG_H

#include <stdbool.h>

/**
 * True for a 2-8 letter primary subtag followed by subtags of 1-8 letters or
 * digits, at most 35 characters ("en", "pt-BR", "zh-Hant-TW", "es-419"). The
 * registry itself is not consulted.
 */
bool lang_is_bcp47(const char *s);

#endif
