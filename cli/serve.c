/* serve.c - placeholder. */
#include "banned.h"
