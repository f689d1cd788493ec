/** Hours `imvault archive` works on at once; the IM client's rate limit spaces their Tencent calls. */
export const DEFAULT_ARCHIVE_CONCURRENCY = 4;
/** Hours `imvault media` captures at once, each with IM_MEDIA_CONCURRENCY downloads. */
export const DEFAULT_MEDIA_HOUR_CONCURRENCY = 2;
