// io.json, written by bench/export_onnx.py beside model.onnx: the shared inputs and PyTorch's outputs.
export interface IoMeta {
  model: string;
  sha256: string;
  param_count: number;
  width: number;
  height: number;
  batch: number; // network batch
  opset: number;
  torch: string;
  onnx_bytes: number;
  arrays: Record<string, { offset: number; length: number; shape: number[] }>; // in floats into io.bin
}

export interface PytorchTimings {
  threads: number;
  torch: string;
  reps: number;
  rows: { width: number; height: number; batch: number; active: number[]; ms: number; cpu_ms?: number }[];
}
