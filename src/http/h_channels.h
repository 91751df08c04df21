/*
 * h_channels: the channel representation, shared by the channels handlers
 * and the Google import handlers (h_google.c), which answer with the same
 * shape so a client parses one kind of channel.
 */
#ifndef PS_HTTP_H_CHANNELS_H
#define PS_HTTP_H_CHANNELS_H

#include "domain/channel_store.h"

#include <jansson.h>

/** The API representation of a channel (a new reference). */
json_t *h_channels_json(const channel *ch);

#endif
