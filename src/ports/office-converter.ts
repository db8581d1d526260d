/** Whether the converter can run here; `reason` names what to install when it cannot. */
export type OfficeConverterStatus = { available: true } | { available: false; reason: string };

/**
 * Turns Office documents (DOCX, XLSX, PPTX, ODT, …) into PDF. Throws `DocumentError` when the
 * document cannot be converted (unreadable, too slow).
 */
export interface OfficeConverter {
  status(): Promise<OfficeConverterStatus>;
  /** `extension`: the source's format name (`docx`), which tells the converter how to read it. */
  toPdf(document: Buffer, extension: string): Promise<Buffer>;
}
