# Third-party dependencies, all from Debian packages (deploy/install-deps.sh).
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(CURL REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(RapidJSON CONFIG REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(Boost 1.81 EXACT REQUIRED)
pkg_check_modules(PQXX REQUIRED IMPORTED_TARGET libpqxx)
# libpq itself: the streaming replication protocol (capture_stream.cpp) is
# not in libpqxx 6.
pkg_check_modules(PQ REQUIRED IMPORTED_TARGET libpq)
if(HUBSYNC_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()

# RapidJSON ships no imported target in 1.1.0; wrap its include dir as SYSTEM.
add_library(hubsync_rapidjson INTERFACE)
target_include_directories(hubsync_rapidjson SYSTEM INTERFACE ${RAPIDJSON_INCLUDE_DIRS})
target_compile_definitions(hubsync_rapidjson INTERFACE RAPIDJSON_HAS_STDSTRING=1)
add_library(hubsync::rapidjson ALIAS hubsync_rapidjson)

add_library(hubsync_boost INTERFACE)
target_include_directories(hubsync_boost SYSTEM INTERFACE ${Boost_INCLUDE_DIRS})
target_compile_definitions(hubsync_boost INTERFACE BOOST_ASIO_NO_DEPRECATED)
target_link_libraries(hubsync_boost INTERFACE Threads::Threads)
add_library(hubsync::boost ALIAS hubsync_boost)

# libpqxx 6.4 from Debian lacks PQXX_HAVE_OPTIONAL; only connectors/postgres uses it.
add_library(hubsync_pqxx INTERFACE)
target_link_libraries(hubsync_pqxx INTERFACE PkgConfig::PQXX PkgConfig::PQ)
target_compile_definitions(hubsync_pqxx INTERFACE PQXX_HAVE_OPTIONAL)
add_library(hubsync::pqxx ALIAS hubsync_pqxx)
