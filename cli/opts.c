/* opts.c - placeholder. */
#include "banned.h"
