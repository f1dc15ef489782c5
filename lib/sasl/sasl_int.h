/* sasl_int.h - what lib/sasl.c and lib/sasl_server.c share (internal;
 * only lib/sasl*.c include GNU SASL's headers). */
#ifndef SMTPROBE_SASL_INT_H
#define SMTPROBE_SASL_INT_H

#include <gsasl.h>

/* GNU SASL keeps property values in its own heap and frees them without
 * wiping: overwrite the secret ones (password, SCRAM keys, DIGEST-MD5
 * hash) in place before gsasl_finish(). */
void sasl__wipe_secrets(Gsasl_session *sess);

#endif
