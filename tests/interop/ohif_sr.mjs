// What OHIF restores from a DICOM SR: the measurement tool states that
// @cornerstonejs/adapters (legacy Cornerstone adapters, on dcmjs) read from it.
//
//   node ohif_sr.mjs restore REPORT.dcm   -> JSON {toolName: [{sopInstanceUID, ...}]}
//
// Exits 2 with the adapter's error on stderr when it throws.
import { readFileSync } from "node:fs";
import dcmjs from "dcmjs";
import { adaptersSR } from "@cornerstonejs/adapters";

function readDataset(path) {
  const bytes = readFileSync(path);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const message = dcmjs.data.DicomMessage.readFile(buffer);
  const dataset = dcmjs.data.DicomMetaDictionary.naturalizeDataset(message.dict);
  dataset._meta = dcmjs.data.DicomMetaDictionary.namifyDataset(message.meta);
  return dataset;
}

function restore(path) {
  const dataset = readDataset(path);
  // {toolType: [tool state]}, each state naming its image (sopInstanceUid).
  const byTool = adaptersSR.Cornerstone.MeasurementReport.generateToolState(dataset);
  const tools = {};
  for (const [toolName, states] of Object.entries(byTool)) {
    for (const state of states || []) {
      (tools[toolName] ||= []).push({ sopInstanceUID: state.sopInstanceUid, ...state });
    }
  }
  return tools;
}

const [command, path] = process.argv.slice(2);
try {
  if (command !== "restore") throw new Error(`unknown command ${command}`);
  process.stdout.write(JSON.stringify(restore(path)));
} catch (error) {
  process.stderr.write(String(error && error.stack ? error.stack : error));
  process.exit(2);
}
