#include "model/mirror_config.h"

namespace tmirror::model {

const char* directionName(TrafficDirection direction) {
  return direction == TrafficDirection::Ingress ? "ingress" : "egress";
}

const char* actionName(RuleAction action) {
  return action == RuleAction::Accept ? "accept" : "reject";
}

}  // namespace tmirror::model
