/* main.c - placeholder. */
#include "banned.h"
int main(void){return 0;}
