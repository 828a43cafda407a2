//! Starting core 1 of an RP2040/RP2350 through its boot ROM (datasheet, "Launching code on
//! processor core 1"): core 1 waits in the boot ROM for the words 0, 0, 1, vector table,
//! stack pointer, entry point on the inter-core FIFO, echoing every word; the sender checks
//! each echo and starts over from the beginning on a mismatch. On the Arm cores the vector
//! table is VTOR's value; on the RISC-V (Hazard3) cores of the RP2350 it is the mtvec value
//! core 1 is to take. Before each 0 the sender drains its own receive FIFO (stale words core
//! 1 left there) and wakes core 1, because the boot ROM sleeps until an event.
//!
//! The sequence is written once here, over the `Fifo` a board crate provides, so that a
//! host test can run it against a model of the boot ROM's side (below).

/// Core 0's side of the SIO inter-core FIFO.
pub trait Fifo {
    /// A word from core 1 is waiting (FIFO_ST.VLD).
    fn readable(&mut self) -> bool;
    /// Read one word, waiting for it.
    fn read(&mut self) -> u32;
    /// Write one word, waiting for room; wakes core 1.
    fn write(&mut self, word: u32);
    /// Wake core 1 (SEV on Arm, h3.unblock on Hazard3).
    fn wake(&mut self);
}

/// The launch words: 0, 0, 1, vector table (mtvec on RISC-V), stack pointer, entry.
pub fn sequence(vector_table: u32, stack_pointer: u32, entry: u32) -> [u32; 6] {
    [0, 0, 1, vector_table, stack_pointer, entry]
}

/// Send the launch sequence until core 1 has echoed all of it; `Err(attempts)` after
/// `max_restarts` restarts (core 1 answering with something else each time).
pub fn launch_core1(fifo: &mut impl Fifo, vector_table: u32, stack_pointer: u32, entry: u32,
                    max_restarts: u32) -> Result<(), u32> {
    let seq = sequence(vector_table, stack_pointer, entry);
    let mut i = 0;
    let mut restarts = 0;
    while i < seq.len() {
        let word = seq[i];
        if word == 0 {
            while fifo.readable() {
                let _ = fifo.read();
            }
            fifo.wake();
        }
        fifo.write(word);
        if fifo.read() == word {
            i += 1;
        } else {
            i = 0;
            restarts += 1;
            if restarts > max_restarts {
                return Err(restarts);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::collections::VecDeque;
    use std::vec::Vec;

    /// Core 1's boot ROM as the datasheet describes it: it echoes every word it reads; the
    /// first three must be 0, 0, 1 (anything else restarts it, a 0 counting as the first
    /// word of a new start); then it takes vector table, stack pointer and entry, and starts
    /// core 1 with them once all six have been echoed. `garbage` words are echoed in place
    /// of the next real echoes (a core 1 that answers wrongly), `stale` words sit in core
    /// 0's receive FIFO before the launch begins.
    struct Rom {
        to_core0: VecDeque<u32>,
        seq: usize,
        values: [u32; 3],
        garbage: Vec<u32>,
        launched: Option<[u32; 3]>,
        woken: usize,
        words_seen: usize,
    }

    impl Rom {
        fn new(stale: &[u32], garbage: &[u32]) -> Self {
            Rom { to_core0: stale.iter().copied().collect(), seq: 0, values: [0; 3],
                  garbage: garbage.iter().rev().copied().collect(), launched: None, woken: 0,
                  words_seen: 0 }
        }

        fn receive(&mut self, word: u32) {
            assert!(self.launched.is_none(), "a word after core 1 was launched");
            self.words_seen += 1;
            let echo = self.garbage.pop().unwrap_or(word);
            if self.seq < 3 {
                let expected = [0, 0, 1][self.seq];
                self.seq = if word == expected && echo == word { self.seq + 1 } else if word == 0 { 1 } else { 0 };
            } else {
                self.values[self.seq - 3] = word;
                self.seq += 1;
            }
            assert!(self.to_core0.len() < 8, "core 0 never drained the FIFO");
            self.to_core0.push_back(echo);
            if self.seq == 6 {
                if echo == word {
                    self.launched = Some(self.values);
                } else {
                    self.seq = 0;
                }
            }
        }
    }

    impl Fifo for Rom {
        fn readable(&mut self) -> bool {
            !self.to_core0.is_empty()
        }
        fn read(&mut self) -> u32 {
            self.to_core0.pop_front().expect("core 0 waits for a word core 1 never sends")
        }
        fn write(&mut self, word: u32) {
            self.receive(word);
        }
        fn wake(&mut self) {
            self.woken += 1;
        }
    }

    const VT: u32 = 0x1000_0100;
    const SP: u32 = 0x2008_0000 - 0x4000;
    const PC: u32 = 0x1000_0420;

    #[test]
    fn a_clean_launch_sends_six_words_and_starts_core1_with_them() {
        let mut rom = Rom::new(&[], &[]);
        assert_eq!(launch_core1(&mut rom, VT, SP, PC, 16), Ok(()));
        assert_eq!(rom.launched, Some([VT, SP, PC]));
        assert_eq!(rom.words_seen, 6);
        assert_eq!(rom.woken, 2, "core 1 is woken before each 0");
        assert!(rom.to_core0.is_empty(), "every echo was read");
    }

    #[test]
    fn stale_words_in_the_receive_fifo_are_drained_first() {
        let mut rom = Rom::new(&[7, 0xdead_beef, 1], &[]);
        assert_eq!(launch_core1(&mut rom, VT, SP, PC, 16), Ok(()));
        assert_eq!(rom.launched, Some([VT, SP, PC]));
        assert_eq!(rom.words_seen, 6);
    }

    #[test]
    fn a_wrong_echo_restarts_the_sequence_from_the_beginning() {
        // the third echo (of the 1) and later the echo of the entry come back wrong
        for garbage in [&[0u32, 0, 5][..], &[0, 0, 1, VT, SP, 9]] {
            let mut rom = Rom::new(&[], garbage);
            assert_eq!(launch_core1(&mut rom, VT, SP, PC, 16), Ok(()));
            assert_eq!(rom.launched, Some([VT, SP, PC]));
            assert_eq!(rom.words_seen, garbage.len() + 6, "{garbage:?}");
        }
    }

    #[test]
    fn a_core_that_never_echoes_right_is_given_up_on() {
        let mut rom = Rom::new(&[], &[3; 64]);
        assert_eq!(launch_core1(&mut rom, VT, SP, PC, 4), Err(5));
        assert_eq!(rom.launched, None);
    }

    #[test]
    fn the_sequence_is_the_documented_one() {
        assert_eq!(sequence(VT, SP, PC), [0, 0, 1, VT, SP, PC]);
    }
}
