/* send.c - placeholder. */
#include "banned.h"
