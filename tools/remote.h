// `ferry sqs <verb>` and `ferry admin <verb>`: the AWS-CLI-shaped verbs
// against a running server (remote.cc).
#ifndef FERRY_TOOLS_REMOTE_H_
#define FERRY_TOOLS_REMOTE_H_

namespace ferry_tools {

// `args` are the arguments after "sqs" / "admin". Return the exit status: 0
// on success, 1 when the request fails (the error is printed), 2 for a
// usage error.
int RunSqs(int argc, char** argv);
int RunAdmin(int argc, char** argv);

}  // namespace ferry_tools

#endif  // FERRY_TOOLS_REMOTE_H_
