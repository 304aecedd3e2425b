#pragma once
/// The public C++ API of noexpp.
#include "noexpp/core/behavior.hpp"
#include "noexpp/core/behavior_registry.hpp"
#include "noexpp/core/codec.hpp"
#include "noexpp/core/error.hpp"
#include "noexpp/core/exit_reason.hpp"
#include "noexpp/core/node.hpp"
#include "noexpp/core/pid.hpp"
#include "noexpp/core/term.hpp"
#include "noexpp/core/events.hpp"
#include "noexpp/sup/child_spec.hpp"
#include "noexpp/sup/supervisor.hpp"
