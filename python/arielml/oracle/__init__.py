"""What the answer must be: the host run through the same Rust kernels (host), the TFLM and
onnxruntime reference interpreters (reference), the bit-exact comparison (check), and the
input/output files of a run (tensors_io)."""
