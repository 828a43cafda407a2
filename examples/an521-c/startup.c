/* Start-up for both Cortex-M33 cores of the AN521, in plain C: core 0 boots from the vector
 * table below; core 1 is held by the SSE-200 until core 0 gives it a vector table
 * (INITSVTOR1) and clears CPUWAIT (start_core1). */
#include <stdint.h>

extern uint32_t __data_start, __data_end, __data_load, __bss_start, __bss_end, __stack_top;
int main(void);

#define CPACR (*(volatile uint32_t *)0xE000ED88)
#define INITSVTOR1 (*(volatile uint32_t *)0x50021114)
#define CPUWAIT (*(volatile uint32_t *)0x50021118)

static void enable_fpu(void) {
    CPACR |= 0xFu << 20; /* CP10, CP11: full access (each core has its own) */
    __asm__ volatile("dsb\n isb" ::: "memory");
}

static void fault_handler(void) {
    for (;;) {
    }
}

void reset_handler(void) {
    enable_fpu();
    uint32_t *src = &__data_load, *dst = &__data_start;
    while (dst < &__data_end) *dst++ = *src++;
    for (dst = &__bss_start; dst < &__bss_end;) *dst++ = 0;
    main();
    for (;;) {
    }
}

__attribute__((section(".vectors"), used)) static const void *const vectors[16] = {
    &__stack_top, (const void *)reset_handler, (const void *)fault_handler, (const void *)fault_handler,
    (const void *)fault_handler, (const void *)fault_handler, (const void *)fault_handler,
};

/* Core 1: its own stack and a two-word vector table (INITSVTOR1 ignores the low 7 bits). */
static uint64_t core1_stack[2048];
static uint32_t core1_vectors[2] __attribute__((aligned(128)));
static void (*core1_entry)(void);

static void core1_reset(void) {
    enable_fpu();
    core1_entry();
    for (;;) {
    }
}

void start_core1(void (*entry)(void)) {
    core1_entry = entry;
    core1_vectors[0] = (uint32_t)(core1_stack + 2048);
    core1_vectors[1] = (uint32_t)core1_reset;
    __asm__ volatile("dsb" ::: "memory");
    INITSVTOR1 = (uint32_t)core1_vectors;
    CPUWAIT = 0;
}
