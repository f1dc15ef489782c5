/* render_text.c - placeholder. */
#include "banned.h"
