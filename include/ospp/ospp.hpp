// ospp/ospp.hpp — the whole of ospp in one include.
#pragma once

#include "ospp/bitmask.hpp"
#include "ospp/error.hpp"
#include "ospp/fcntl.hpp"
#include "ospp/fd.hpp"
#include "ospp/fd_ops.hpp"
#include "ospp/files.hpp"
#include "ospp/path.hpp"
#include "ospp/resource.hpp"
#include "ospp/scandir.hpp"
#include "ospp/signal.hpp"
#include "ospp/special_fds.hpp"
#include "ospp/stat.hpp"
#include "ospp/terminal.hpp"
#include "ospp/walk.hpp"
#include "ospp/xattr.hpp"
