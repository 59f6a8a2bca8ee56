/** An uploaded file, spooled to disk: large archives are never held in memory whole. */
export interface UploadedFile {
  path: string;
  size: number;
  /** Hex SHA-256 of the content, when it was computed while the file was written. */
  sha256?: string;
}
