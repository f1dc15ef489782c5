/* limits.c - placeholder, being written. */
#include "banned.h"
