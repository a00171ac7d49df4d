// The source hubsync_test_pch needs to build its precompiled header; see CMakeLists.txt.
