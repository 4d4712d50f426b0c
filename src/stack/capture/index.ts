// Capture files: pcap and pcapng codecs, a streaming reader, a writer.
export * as pcap from './pcap.js';
export * as pcapng from './pcapng.js';
export { linkTypeName, linkTypeText } from './linktype.js';
export * from './linktype.js';
export { fileChunks, openSource, readCapture, readCaptureBatches, type CaptureEvent, type CapturePacket, type CaptureStart } from './reader.js';
export { CaptureWriter, type CaptureFormat } from './writer.js';
