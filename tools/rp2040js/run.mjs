#!/usr/bin/env node
// Run an RP2040 firmware image in rp2040js (core 0 only) with UART0 bridged to TCP.
//
//   node tools/rp2040js/run.mjs IMAGE [--port N] [--timeout SECONDS] [--no-boot2-check]
//
// IMAGE is an ELF, a UF2 or a raw flash image (.bin, loaded at 0x1000_0000). The rp2040js
// package ships no boot ROM, so this script does what the ROM does on a flash boot, minus
// running boot2 (which only sets up the flash's XIP mode, already "on" in rp2040js): it
// checks boot2's CRC-32 at the start of flash (the ROM refuses to boot without it), then
// does what boot2 does on exit: VTOR = 0x1000_0100, SP = vector[0], PC = vector[1].
//
// A TCP server listens on 127.0.0.1 (port 0 = any free port); the line
// "rp2040js: listening on 127.0.0.1:PORT" on stdout says where. The core starts when the
// first client connects (like QEMU's wait=on: no output is lost); bytes from the client go
// to UART0's RX FIFO, bytes the firmware writes to UART0 go to the client. The process
// exits 0 when the client disconnects, 124 on the time limit (wall clock), 3 when the core
// jumps into the (absent) boot ROM, 2 on bad arguments or a bad image.

import fs from 'node:fs';
import net from 'node:net';
import { RP2040 } from 'rp2040js';

const FLASH = 0x10000000;
const FLASH_SIZE = 16 * 1024 * 1024; // rp2040js's flash array
const VECTORS = 0x10000100; // after the 256-byte boot2
const ROM_END = 0x4000; // 16 KiB boot ROM at 0x0000_0000
const UF2_MAGIC = [0x0a324655, 0x9e5d5157, 0x0ab16f30];

function die(code, msg) {
  process.stderr.write(`rp2040js: ${msg}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const opts = { image: null, port: 0, timeout: 60, boot2Check: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) die(2, `${a} needs a value`);
      return argv[++i];
    };
    if (a === '--port') opts.port = Number(value());
    else if (a === '--timeout') opts.timeout = Number(value());
    else if (a === '--no-boot2-check') opts.boot2Check = false;
    else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: run.mjs IMAGE [--port N] [--timeout SECONDS] [--no-boot2-check]\n');
      process.exit(0);
    } else if (a.startsWith('-')) die(2, `unknown option ${a}`);
    else if (opts.image === null) opts.image = a;
    else die(2, `unexpected argument ${a}`);
  }
  if (opts.image === null) die(2, 'no image given (ELF, UF2 or .bin)');
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) die(2, 'bad --port');
  if (!(opts.timeout > 0)) die(2, 'bad --timeout');
  return opts;
}

// ---------------------------------------------------------------------------- images

function putFlash(flash, addr, bytes, what) {
  const off = addr - FLASH;
  if (off < 0 || off + bytes.length > FLASH_SIZE) {
    die(2, `${what}: ${bytes.length} bytes at 0x${addr.toString(16)} are outside flash`);
  }
  flash.set(bytes, off);
}

function loadElf(flash, buf) {
  if (buf.readUInt8(4) !== 1 || buf.readUInt8(5) !== 1) die(2, 'not a 32-bit little-endian ELF');
  if (buf.readUInt16LE(18) !== 40) die(2, 'not an ARM ELF');
  const phoff = buf.readUInt32LE(28);
  const phentsize = buf.readUInt16LE(42);
  const phnum = buf.readUInt16LE(44);
  let loaded = 0;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    const type = buf.readUInt32LE(ph);
    const offset = buf.readUInt32LE(ph + 4);
    const paddr = buf.readUInt32LE(ph + 12); // LMA: where the bytes live in flash
    const filesz = buf.readUInt32LE(ph + 16);
    if (type !== 1 || filesz === 0) continue; // PT_LOAD with file contents only
    if (paddr < FLASH || paddr >= FLASH + FLASH_SIZE) {
      die(2, `ELF segment ${i} loads at 0x${paddr.toString(16)}, not in flash: not a flash image`);
    }
    putFlash(flash, paddr, buf.subarray(offset, offset + filesz), `ELF segment ${i}`);
    loaded += filesz;
  }
  if (!loaded) die(2, 'ELF has no loadable segment');
  readSymbols(buf);
}

// Function symbols of the ELF (if not stripped), to name the caller of a ROM function.
const functions = [];
function readSymbols(buf) {
  const shoff = buf.readUInt32LE(32);
  const shentsize = buf.readUInt16LE(46);
  const shnum = buf.readUInt16LE(48);
  for (let i = 0; i < shnum; i++) {
    const sh = shoff + i * shentsize;
    if (buf.readUInt32LE(sh + 4) !== 2) continue; // SHT_SYMTAB
    const off = buf.readUInt32LE(sh + 16);
    const size = buf.readUInt32LE(sh + 20);
    const strtab = shoff + buf.readUInt32LE(sh + 24) * shentsize;
    const stroff = buf.readUInt32LE(strtab + 16);
    for (let p = off; p + 16 <= off + size; p += 16) {
      if ((buf.readUInt8(p + 12) & 0xf) !== 2) continue; // STT_FUNC
      const value = buf.readUInt32LE(p + 4) & ~1;
      const nameAt = stroff + buf.readUInt32LE(p);
      const name = buf.toString('latin1', nameAt, buf.indexOf(0, nameAt));
      functions.push({ value, size: buf.readUInt32LE(p + 8), name });
    }
  }
}

function functionAt(addr) {
  const f = functions.find((s) => addr >= s.value && addr < s.value + Math.max(s.size, 2));
  return f ? ` in ${f.name}` : '';
}

function loadUf2(flash, buf) {
  if (buf.length % 512) die(2, 'UF2 file size is not a multiple of 512');
  for (let off = 0; off < buf.length; off += 512) {
    const magic = [buf.readUInt32LE(off), buf.readUInt32LE(off + 4), buf.readUInt32LE(off + 508)];
    if (magic.some((m, j) => m !== UF2_MAGIC[j])) die(2, `UF2 block at ${off}: bad magic`);
    const flags = buf.readUInt32LE(off + 8);
    if (flags & 1) continue; // "not main flash"
    const addr = buf.readUInt32LE(off + 12);
    const size = buf.readUInt32LE(off + 16);
    if (size > 476) die(2, `UF2 block at ${off}: payload of ${size} bytes`);
    putFlash(flash, addr, buf.subarray(off + 32, off + 32 + size), `UF2 block at ${off}`);
  }
}

function loadImage(rp2040, path) {
  let buf;
  try {
    buf = fs.readFileSync(path);
  } catch (e) {
    die(2, `cannot read ${path}: ${e.message}`);
  }
  if (buf.length >= 4 && buf.readUInt32BE(0) === 0x7f454c46) loadElf(rp2040.flash, buf);
  else if (buf.length >= 512 && buf.readUInt32LE(0) === UF2_MAGIC[0]) loadUf2(rp2040.flash, buf);
  else putFlash(rp2040.flash, FLASH, buf, path);
}

// CRC-32/MPEG-2 of boot2's first 252 bytes, stored little-endian in its last 4 (as the ROM checks).
function boot2CrcOk(flash) {
  let crc = 0xffffffff;
  for (let i = 0; i < 252; i++) {
    crc ^= flash[i] << 24;
    for (let b = 0; b < 8; b++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
    crc >>>= 0;
  }
  const stored = (flash[252] | (flash[253] << 8) | (flash[254] << 16) | (flash[255] << 24)) >>> 0;
  return crc === stored;
}

// ---------------------------------------------------------------------------- main

const opts = parseArgs(process.argv.slice(2));

const warnings = [];
const logger = {
  // rp2040js logs every unmodelled register access; keep the last few for the exit message.
  debug() {},
  info() {},
  warn(name, msg) {
    warnings.push(`${name}: ${msg}`);
    if (warnings.length > 20) warnings.shift();
  },
  error(name, msg) {
    process.stderr.write(`rp2040js: [${name}] ${msg}\n`);
  },
};

// rp2040js's SIO reports unmodelled registers with console.warn: keep them off stderr too.
console.warn = (...args) => logger.warn('console', args.join(' '));
const mcu = new RP2040(); // with its own SimulationClock: time advances with the cycles run
const clock = mcu.clock;
mcu.logger = logger;
loadImage(mcu, opts.image);
if (opts.boot2Check && !boot2CrcOk(mcu.flash)) {
  die(2, `${opts.image}: no valid boot2 at 0x10000000 (CRC-32/MPEG-2 mismatch): the boot ROM would not start it`);
}
const core = mcu.core;
core.VTOR = VECTORS;
core.SP = mcu.readUint32(VECTORS);
core.PC = mcu.readUint32(VECTORS + 4) & ~1;
if (core.PC < FLASH || core.PC >= FLASH + FLASH_SIZE) {
  die(2, `reset vector 0x${core.PC.toString(16)} is not in flash: is this an RP2040 flash image?`);
}

const rxQueue = []; // client bytes waiting for room in UART0's 32-byte RX FIFO
let txBuf = [];
let client = null;
let running = false;
const uart = mcu.uart[0];
uart.onByte = (b) => txBuf.push(b);

function feedRx() {
  const fifo = uart.rxFIFO;
  while (rxQueue.length && !fifo.full) uart.feedByte(rxQueue.shift());
}

function flushTx() {
  if (txBuf.length && client) {
    client.write(Buffer.from(txBuf));
    txBuf = [];
  }
}

function finish(code, msg) {
  running = false;
  if (msg) process.stderr.write(`rp2040js: ${msg}\n`);
  flushTx();
  if (client) client.end();
  process.exit(code);
}

function romCall() {
  const lr = core.LR >>> 0;
  const site = ((lr & ~1) - 2) >>> 0; // the BLX (2 bytes) or BL (4 bytes) before LR
  finish(3, `core 0 jumped to 0x${(core.PC >>> 0).toString(16).padStart(8, '0')} in the boot ROM `
    + `(LR=0x${lr.toString(16)}${functionAt(site)}); `
    + 'the rp2040js package has no boot ROM, so the image must not call ROM functions');
}

const SLICE = 200000; // instructions between visits to the event loop
function execute() {
  if (!running) return;
  const cycleNanos = 1e9 / mcu.clkSys; // clk_sys follows the firmware's PLL set-up
  let idle = false;
  for (let i = 0; i < SLICE && running; i++) {
    if ((i & 63) === 0 && rxQueue.length) feedRx();
    if (core.waiting) {
      const nanos = clock.nanosToNextAlarm;
      if (nanos <= 0) {
        if (!rxQueue.length) {
          idle = true; // WFE/WFI with nothing due: wait for the host
          break;
        }
        feedRx();
        continue;
      }
      clock.tick(nanos);
    } else {
      const cycles = core.executeInstruction();
      clock.tick(cycles * cycleNanos);
      if (core.PC < ROM_END) return romCall();
    }
  }
  flushTx();
  if (idle) setTimeout(execute, 1);
  else setImmediate(execute);
}

const server = net.createServer({ noDelay: true }, (sock) => {
  if (client) {
    sock.destroy(); // one host at a time, as on a serial port
    return;
  }
  client = sock;
  sock.setNoDelay(true);
  server.close(); // no further connections
  sock.on('data', (data) => {
    for (const b of data) rxQueue.push(b);
  });
  sock.on('close', () => finish(0));
  sock.on('error', () => finish(0));
  running = true;
  setImmediate(execute);
});
server.on('error', (e) => die(2, `cannot listen on 127.0.0.1:${opts.port}: ${e.message}`));
server.listen(opts.port, '127.0.0.1', () => {
  process.stdout.write(`rp2040js: listening on 127.0.0.1:${server.address().port}\n`);
});

setTimeout(() => {
  const pc = (core.PC >>> 0).toString(16);
  const last = warnings.length ? `; last rp2040js warning: ${warnings[warnings.length - 1]}` : '';
  finish(124, `time limit of ${opts.timeout} s reached (PC=0x${pc})${last}`);
}, opts.timeout * 1000).unref();
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => finish(143, `${sig}`));
