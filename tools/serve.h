// `ferry serve`: an in-memory broker behind the AWS wire gateway.
#ifndef FERRY_TOOLS_SERVE_H_
#define FERRY_TOOLS_SERVE_H_

namespace ferry_tools {

// `args` are the arguments after "serve". Returns the exit status: 0 after a
// clean shutdown (SIGINT/SIGTERM), 1 when the server cannot start, 2 for a
// usage error.
int RunServe(int argc, char** argv);

}  // namespace ferry_tools

#endif  // FERRY_TOOLS_SERVE_H_
