// `ferry sqs <verb>`, `ferry sns <verb>`, `ferry kinesis <verb>` and
// `ferry stats`: AWS-CLI-shaped verbs against a running server
// (--endpoint-url) or a data directory (--data-dir, the native API over
// RocksDB) (verbs.cc).
#ifndef FERRY_TOOLS_VERBS_H_
#define FERRY_TOOLS_VERBS_H_

namespace ferry_tools {

// `args` are the arguments after "sqs" / "sns" / "kinesis" / "stats". Return
// the exit status: 0 on success, 1 when a request fails (the error is printed),
// 2 for a usage error.
int RunSqs(int argc, char** argv);
int RunSns(int argc, char** argv);
int RunKinesis(int argc, char** argv);
int RunStats(int argc, char** argv);

}  // namespace ferry_tools

#endif  // FERRY_TOOLS_VERBS_H_
