// What OHIF restores from a DICOM SR: the measurement tool states that
// @cornerstonejs/adapters (legacy Cornerstone adapters, on dcmjs) read from it.
//
//   node ohif_sr.mjs restore REPORT.dcm   -> JSON {toolName: [{sopInstanceUID, ...}]}
//   node ohif_sr.mjs write STATES.json REPORT.dcm
//       writes the SR OHIF writes for tool states, STATES.json being
//       {imageId: {"image": {studyInstanceUID, seriesInstanceUID, sopInstanceUID,
//        sopClassUID, frameNumber}, "tools": {toolName: {"data": [state]}}}}
//
// Exits 2 with the adapter's error on stderr when it throws.
import { readFileSync, writeFileSync } from "node:fs";
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

function write(statesPath, reportPath) {
  const states = JSON.parse(readFileSync(statesPath, "utf8"));
  const toolState = {};
  for (const [imageId, { tools }] of Object.entries(states)) toolState[imageId] = tools;
  const metadataProvider = {
    get(type, imageId) {
      const image = states[imageId].image;
      if (type === "generalSeriesModule") return image;
      if (type === "sopCommonModule") return image;
      if (type === "frameNumber") return image.frameNumber;
      return undefined;
    },
  };
  const report = adaptersSR.Cornerstone.MeasurementReport.generateReport(
    toolState,
    metadataProvider,
  );
  const first = Object.values(states)[0].image;
  const dataset = report.dataset;
  dataset.StudyInstanceUID = first.studyInstanceUID;
  dataset._meta.MediaStorageSOPClassUID = { Value: [dataset.SOPClassUID], vr: "UI" };
  dataset._meta.MediaStorageSOPInstanceUID = { Value: [dataset.SOPInstanceUID], vr: "UI" };
  const dicomDict = dcmjs.data.datasetToDict(dataset);
  writeFileSync(reportPath, Buffer.from(dicomDict.write()));
}

const [command, path, output] = process.argv.slice(2);
try {
  if (command === "restore") process.stdout.write(JSON.stringify(restore(path)));
  else if (command === "write") write(path, output);
  else throw new Error(`unknown command ${command}`);
} catch (error) {
  process.stderr.write(String(error && error.stack ? error.stack : error));
  process.exit(2);
}
