#!/usr/bin/env node
// Run an RP2040 firmware image in rp2040js (core 0 only) with UART0, or with --usb the
// firmware's USB CDC-ACM port, bridged to TCP.
//
//   node tools/rp2040js/run.mjs IMAGE [--port N] [--timeout SECONDS] [--no-boot2-check] [--usb]
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
// jumps into the (absent) boot ROM, 2 on bad arguments or a bad image, 5 when --usb was given
// and the firmware's USB device does not answer a step of the enumeration.
//
// --usb: this script plays the USB host, on rp2040js's device-mode USB controller, the way
// Linux's cdc_acm does when /dev/ttyACM0 is opened: bus reset, SET_ADDRESS, the device,
// configuration and string descriptors, SET_CONFIGURATION, SET_LINE_CODING (115200 8N1) and
// SET_CONTROL_LINE_STATE (DTR|RTS) to the CDC communication interface; then bytes from the
// client go out on the CDC data interface's bulk OUT endpoint (as the firmware arms it) and
// what the firmware sends on its bulk IN endpoint goes to the client. UART0 is not bridged
// then: what the firmware writes there is recorded, and when the client disconnects one line
// "rp2040js: usb summary {JSON}" on stderr gives the descriptors seen, the byte counts and
// whether the USB bytes were exactly the tail of the UART0 bytes (the firmware writes both).
// rp2040js's own USBCDC helper cannot drive this firmware: it answers an armed OUT endpoint
// only once it has parsed the configuration descriptor, but rp2040-hal arms the bulk OUT
// endpoint at bus reset, before that, and never again until a packet arrives, so no host
// byte would ever reach the firmware; it also answers every armed OUT endpoint at once, with
// a zero-length packet when it has no data (an interrupt storm on the device), and sends
// SET_CONTROL_LINE_STATE to the device instead of the interface, which usbd-serial stalls.

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
  const opts = { image: null, port: 0, timeout: 60, boot2Check: true, usb: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) die(2, `${a} needs a value`);
      return argv[++i];
    };
    if (a === '--port') opts.port = Number(value());
    else if (a === '--timeout') opts.timeout = Number(value());
    else if (a === '--no-boot2-check') opts.boot2Check = false;
    else if (a === '--usb') opts.usb = true;
    else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: run.mjs IMAGE [--port N] [--timeout SECONDS] [--no-boot2-check] [--usb]\n');
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

// ---------------------------------------------------------------------------- USB host (--usb)

const EP0_PACKET = 64;
const STEP_GAP_NS = 100_000; // between control transfers (a host leaves far more)
const STEP_TIMEOUT_NS = 200_000_000; // of emulated time, for one control transfer
const CDC_SET_LINE_CODING = 0x20;
const CDC_SET_CONTROL_LINE_STATE = 0x22;
const TAIL = 1 << 16;

// The last TAIL bytes of a stream, and how many there were in all.
class ByteTail {
  constructor() {
    this.buf = Buffer.alloc(TAIL);
    this.total = 0;
  }
  push(bytes) {
    for (const b of bytes) this.buf[this.total++ % TAIL] = b;
  }
  last(n) {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.buf[(this.total - n + i) % TAIL];
    return out;
  }
}

function setup(bmRequestType, bRequest, wValue, wIndex, wLength) {
  return Uint8Array.of(bmRequestType, bRequest, wValue & 0xff, wValue >> 8, wIndex & 0xff,
    wIndex >> 8, wLength & 0xff, wLength >> 8);
}

function utf16(bytes) {
  // A string descriptor: bLength, bDescriptorType (3), then UTF-16LE.
  return Buffer.from(bytes.slice(2, bytes[0])).toString('utf16le');
}

// The host side of one USB port with the firmware's device on it; see --usb above.
class UsbHost {
  constructor(usb, clock, fail) {
    this.usb = usb;
    this.fail = fail;
    this.state = 'not enabled'; // what the firmware has got to, for messages
    this.steps = [];
    this.current = null; // the control transfer under way
    this.armed = new Map(); // endpoint -> bytes the firmware's armed OUT buffer takes
    this.toDevice = []; // client bytes for the bulk OUT endpoint
    this.onData = null; // bytes from the bulk IN endpoint
    this.desc = {};
    this.bulkIn = -1;
    this.bulkOut = -1;
    this.commInterface = -1;
    this.configured = false;
    this.usbIn = new ByteTail(); // device -> host on the bulk IN endpoint
    this.usbOut = 0; // host -> device bytes on the bulk OUT endpoint
    this.packets = 0; // packets with data on the bulk IN endpoint
    this.zlps = 0; // zero-length packets on the bulk IN endpoint (ends of transfers)
    this.nextStep = clock.createAlarm(() => this.runStep());
    this.timeout = clock.createAlarm(() => this.fail(5, `usb: the device did not answer `
      + `${this.current ? this.current.name : 'the bus reset'} (${this.state})`));
    usb.onUSBEnabled = () => {
      this.state = 'bus reset';
      usb.resetDevice(); // rp2040js raises BUS_RESET 10 ms later
      this.timeout.schedule(STEP_TIMEOUT_NS);
    };
    usb.onResetReceived = () => this.enumerate(); // the firmware took the reset
    usb.onEndpointWrite = (ep, data) => this.fromDevice(ep, data);
    usb.onEndpointRead = (ep, size) => {
      this.armed.set(ep, size);
      this.toEndpoint(ep);
    };
  }

  control(name, bytes, { dataOut = null, then = null } = {}) {
    this.steps.push({ name, bytes, dataOut, then });
  }

  enumerate() {
    this.timeout.cancel();
    this.state = 'enumerating';
    this.steps = [];
    this.configured = false;
    const STD_IN = 0x80;
    const CLASS_IFACE_OUT = 0x21;
    this.control('SET_ADDRESS', setup(0x00, 5, 1, 0, 0));
    this.control('GET_DESCRIPTOR(device)', setup(STD_IN, 6, 0x0100, 0, 18), {
      then: (d) => {
        this.desc.vid = d[8] | (d[9] << 8);
        this.desc.pid = d[10] | (d[11] << 8);
        this.desc.deviceClass = [d[4], d[5], d[6]];
        this.desc.maxPacket0 = d[7];
        this.desc.strings = { manufacturer: d[14], product: d[15], serial: d[16] };
      },
    });
    this.control('GET_DESCRIPTOR(configuration, 9)', setup(STD_IN, 6, 0x0200, 0, 9), {
      then: (d) => {
        const total = d[2] | (d[3] << 8);
        this.steps.unshift({ name: 'GET_DESCRIPTOR(configuration)', bytes: setup(STD_IN, 6, 0x0200, 0, total),
          then: (c) => this.parseConfiguration(c) });
      },
    });
    this.control('GET_DESCRIPTOR(string 0)', setup(STD_IN, 6, 0x0300, 0, 255), {
      then: (d) => {
        const lang = d[2] | (d[3] << 8);
        for (const [what, index] of Object.entries(this.desc.strings).reverse()) {
          if (!index) continue;
          this.steps.unshift({ name: `GET_DESCRIPTOR(string ${index})`, bytes: setup(STD_IN, 6, 0x0300 | index, lang, 255),
            then: (s) => { this.desc[what] = utf16(s); } });
        }
      },
    });
    this.control('SET_CONFIGURATION(1)', setup(0x00, 9, 1, 0, 0));
    // cdc_acm on open: line coding, then DTR and RTS, to the communication interface
    const lineCoding = Uint8Array.of(0x00, 0xc2, 0x01, 0x00, 0, 0, 8); // 115200, 1 stop, none, 8
    this.control('SET_LINE_CODING', () => setup(CLASS_IFACE_OUT, CDC_SET_LINE_CODING, 0, this.commInterface, 7),
      { dataOut: lineCoding });
    this.control('SET_CONTROL_LINE_STATE(DTR|RTS)',
      () => setup(CLASS_IFACE_OUT, CDC_SET_CONTROL_LINE_STATE, 3, this.commInterface, 0), {
        then: () => {
          this.configured = true;
          this.state = 'configured, port open';
          this.feed();
        },
      });
    this.nextStep.schedule(STEP_GAP_NS);
  }

  parseConfiguration(c) {
    // The CDC communication interface (class 2, subclass 2) and the bulk endpoints of the
    // data interface (class 10).
    let iface = null;
    for (let i = 0; i + 2 <= c.length && c[i] >= 2; i += c[i]) {
      const type = c[i + 1];
      if (type === 4) {
        iface = { number: c[i + 2], cls: c[i + 5], sub: c[i + 6] };
        if (iface.cls === 2 && iface.sub === 2 && this.commInterface < 0) this.commInterface = iface.number;
      } else if (type === 5 && iface && iface.cls === 10 && (c[i + 3] & 3) === 2) {
        if (c[i + 2] & 0x80) this.bulkIn = c[i + 2] & 0xf;
        else this.bulkOut = c[i + 2] & 0xf;
      }
    }
    this.desc.cdc = { comm: this.commInterface, bulkIn: this.bulkIn, bulkOut: this.bulkOut };
    if (this.commInterface < 0 || this.bulkIn < 0 || this.bulkOut < 0) {
      this.fail(5, `usb: no CDC-ACM interface with bulk endpoints in the configuration descriptor: ${Buffer.from(c).toString('hex')}`);
    }
  }

  runStep() {
    const step = this.steps.shift();
    if (!step) return;
    const bytes = typeof step.bytes === 'function' ? step.bytes() : step.bytes;
    const wLength = bytes[6] | (bytes[7] << 8);
    this.current = { ...step, dirIn: !!(bytes[0] & 0x80), wLength, data: [], sent: false, statusDue: false };
    // The firmware decides anew on every setup packet whether EP0 OUT is armed (it arms it
    // when it reads the packet, for a data or status stage from the host), and rp2040js
    // reports arming only.
    this.armed.delete(0);
    this.timeout.schedule(STEP_TIMEOUT_NS);
    this.usb.sendSetupPacket(bytes);
  }

  done() {
    const step = this.current;
    this.current = null;
    this.timeout.cancel();
    if (step.then) step.then(Uint8Array.from(step.data));
    this.nextStep.schedule(STEP_GAP_NS);
  }

  fromDevice(ep, data) {
    if (ep > 0 && ep === this.bulkIn) {
      if (data.length) this.packets++;
      else this.zlps++;
      this.usbIn.push(data);
      if (this.onData) this.onData(data);
      return;
    }
    const cur = this.current;
    if (ep !== 0 || !cur) return;
    if (cur.dirIn) {
      // data stage; it ends on wLength bytes or a short packet, then the host's status stage
      cur.data.push(...data);
      if (cur.data.length < cur.wLength && data.length === EP0_PACKET) return;
      cur.statusDue = true;
      this.toEndpoint(0);
    } else if (data.length === 0) {
      this.done(); // the status stage of a control OUT: the device's zero-length IN
    }
  }

  // Give an armed OUT endpoint what the host has for it.
  toEndpoint(ep) {
    const size = this.armed.get(ep);
    if (size === undefined) return;
    const cur = this.current;
    if (ep === 0) {
      if (cur && !cur.dirIn && cur.dataOut && !cur.sent) {
        cur.sent = true; // the data stage of a control OUT
        this.armed.delete(0);
        this.usb.endpointReadDone(0, cur.dataOut);
      } else if (cur && cur.dirIn && cur.statusDue) {
        cur.statusDue = false; // the status stage of a control IN: a zero-length OUT
        this.armed.delete(0);
        this.usb.endpointReadDone(0, new Uint8Array(0));
        this.done();
      }
      return;
    }
    if (ep === this.bulkOut && this.configured && this.toDevice.length) {
      const chunk = Uint8Array.from(this.toDevice.splice(0, Math.min(size, 64)));
      this.armed.delete(ep);
      this.usbOut += chunk.length;
      this.usb.endpointReadDone(ep, chunk);
    }
  }

  feed() {
    if (this.bulkOut >= 0) this.toEndpoint(this.bulkOut);
  }

  // Whether client bytes can go to the firmware now (else the runner may idle).
  canFeed() {
    return this.configured && this.toDevice.length > 0 && this.armed.has(this.bulkOut);
  }
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
const usbHost = opts.usb ? new UsbHost(mcu.usbCtrl, clock, (code, msg) => finish(code, msg)) : null;
const uartSent = new ByteTail(); // with --usb: what the firmware wrote to UART0
if (usbHost) {
  uart.onByte = (b) => uartSent.push([b]);
  usbHost.toDevice = rxQueue; // client bytes go to the bulk OUT endpoint instead
  usbHost.onData = (data) => {
    for (const b of data) txBuf.push(b);
  };
} else {
  uart.onByte = (b) => txBuf.push(b);
}

function feedRx() {
  if (usbHost) return usbHost.feed();
  const fifo = uart.rxFIFO;
  while (rxQueue.length && !fifo.full) uart.feedByte(rxQueue.shift());
}

// Whether waiting client bytes can be handed to the firmware now.
function rxDeliverable() {
  return usbHost ? usbHost.canFeed() : rxQueue.length > 0;
}

function flushTx() {
  if (txBuf.length && client) {
    client.write(Buffer.from(txBuf));
    txBuf = [];
  }
}

function usbSummary() {
  const h = usbHost;
  const n = Math.min(h.usbIn.total, TAIL);
  return {
    state: h.state, ...h.desc, usbIn: h.usbIn.total, usbOut: h.usbOut, packets: h.packets, zlps: h.zlps, uartOut: uartSent.total,
    // the firmware writes every byte to UART0 and, while the port is open, to USB
    usbIsUartTail: h.usbIn.total <= uartSent.total && h.usbIn.last(n).equals(uartSent.last(n)),
  };
}

function finish(code, msg) {
  running = false;
  if (usbHost && msg) msg += `; usb: ${usbHost.state}`;
  if (msg) process.stderr.write(`rp2040js: ${msg}\n`);
  else if (usbHost) process.stderr.write(`rp2040js: usb summary ${JSON.stringify(usbSummary())}\n`);
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
        if (!rxDeliverable()) {
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
