/* smtpd.c - placeholder, being written. */
#include "banned.h"
