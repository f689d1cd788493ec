/** Hours `imvault archive` works on at once; the IM client's rate limit spaces their Tencent calls. */
export const DEFAULT_ARCHIVE_CONCURRENCY = 4;
