/*
 * h_channels: the channel representation, shared by the channels handlers
 * and the Google import handlers (h_google.c), which answer with the same
 * shape so a client parses one kind of channel.
 */
#ifndef PS_HTTP_H_CHANNELS_H
#define PS_HTTP_H_CHANNELS_H

#include "base/jsonout.h"
#include "domain/channel_store.h"

/** Writes the API representation of a channel. */
void h_channels_write(jw *w, const channel *ch);

#endif
