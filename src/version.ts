/** primacy's version, recorded in every lease so `lock-status` shows what each holder runs. */
export const VERSION = '0.1.0';
