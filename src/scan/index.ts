/**
 * The log scanner: finds credentials exposed in CI logs (known token formats, high-entropy
 * assignments, base64 dumps peeled up to three layers) without ever returning a value in a
 * printable form. Pure and streaming; the GitHub actions do the downloading.
 */
export { familyOf, shannonEntropy, type HitFamily, type HitKind } from './detectors.js';
export { LineScanner, publicHit, scanText, type Hit, type LineResult, type PublicHit, type ScanOptions } from './scanner.js';
export { logFileIdentity, scanStream, scanZipStream, type RedactedSink, type ZipScanResult } from './stream.js';
