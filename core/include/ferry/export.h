// -----------------------------------------------------------------------------
// File: ferry/export.h
// -----------------------------------------------------------------------------
//
// `FERRY_EXPORT` marks the declarations that form ferry's public ABI. Every
// other symbol is compiled with hidden visibility, so a shared ferry library
// exports nothing a host program could clash with.
#ifndef FERRY_EXPORT_H_
#define FERRY_EXPORT_H_

#if defined(__GNUC__) || defined(__clang__)
#define FERRY_EXPORT __attribute__((visibility("default")))
#else
#define FERRY_EXPORT
#endif

#endif  // FERRY_EXPORT_H_
