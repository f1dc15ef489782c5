/* render_json.c - placeholder, being written. */
#include "banned.h"
