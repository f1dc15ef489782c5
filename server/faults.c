/* faults.c - placeholder, being written. */
#include "banned.h"
