/* tls_server.c - placeholder, being written. */
#include "banned.h"
