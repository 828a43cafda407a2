/* A C application that runs an arielml model as a static library on both cores of the
 * AN521: `arielml build MODEL --board qemu-an521 --emit staticlib --name model --out DIR`
 * gives DIR/libmodel.a and DIR/include/model.h; input.h holds the input (MODEL_INPUT0_LEN
 * int8 values). Prints the top class and the outputs on UART0, then ends QEMU
 * (semihosting). Core 1 is started whatever MODEL_CORES says: with a one-core library its
 * worker just sleeps. */
#include <stdint.h>

#include "input.h"
#include "model.h"

void start_core1(void (*entry)(void));

#define UART0 0x50200000u
#define UART_DATA (*(volatile uint32_t *)(UART0 + 0x0))
#define UART_STATE (*(volatile uint32_t *)(UART0 + 0x4))
#define UART_CTRL (*(volatile uint32_t *)(UART0 + 0x8))

static void put(char c) {
    while (UART_STATE & 1u) {
    }
    UART_DATA = (uint32_t)c;
}

static void puts_(const char *s) {
    while (*s) put(*s++);
}

static void put_int(int v) {
    char buf[12];
    int n = 0;
    unsigned u = v < 0 ? (unsigned)(-v) : (unsigned)v;
    do buf[n++] = (char)('0' + u % 10); while (u /= 10);
    if (v < 0) put('-');
    while (n) put(buf[--n]);
}

static void exit_qemu(int code) {
    /* SYS_EXIT_EXTENDED with ADP_Stopped_ApplicationExit: QEMU exits with `code`. */
    uint32_t block[2] = {0x20026u, (uint32_t)code};
    register uint32_t r0 __asm__("r0") = 0x20;
    register uint32_t *r1 __asm__("r1") = block;
    __asm__ volatile("bkpt 0xab" : : "r"(r0), "r"(r1) : "memory");
    for (;;) {
    }
}

static void core1_main(void) { model_worker(1); }

int main(void) {
    static int8_t scores[MODEL_OUTPUT0_LEN];
    UART_CTRL = 1u; /* TX on */
    start_core1(core1_main);
    model_run(INPUT, scores);
    int top = 0;
    for (int i = 1; i < MODEL_OUTPUT0_LEN; i++)
        if (scores[i] > scores[top]) top = i;
    puts_("c: top class ");
    put_int(top);
    puts_(" scores");
    for (int i = 0; i < MODEL_OUTPUT0_LEN; i++) {
        put(' ');
        put_int(scores[i]);
    }
    put('\n');
    exit_qemu(0);
    return 0;
}
