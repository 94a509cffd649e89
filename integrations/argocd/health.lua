-- Argo CD health check for canary-operator.dev/CanaryRelease.
-- Argo CD sets the live object as the global `obj` and expects a table
-- {status = "Healthy"|"Progressing"|"Degraded"|"Suspended"|"Missing"|"Unknown", message = "..."}.
-- Written for Argo CD's Lua VM (Lua 5.1, gopher-lua) without its string
-- library: only the base and table functions are used.
local hs = {}

local function message_or(text)
  if obj.status ~= nil and obj.status.message ~= nil and obj.status.message ~= "" then
    return obj.status.message
  end
  return text
end

-- 1. The operator has not reported on this object yet.
if obj.status == nil or (obj.status.phase == nil and obj.status.observedGeneration == nil) then
  hs.status = "Progressing"
  hs.message = "Waiting for canary-operator to report the release status"
  return hs
end

-- 2. The status describes an older spec: the operator has not caught up yet.
local generation = nil
if obj.metadata ~= nil then
  generation = obj.metadata.generation
end
local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.status = "Progressing"
  if observed == nil then
    hs.message = "Waiting for canary-operator to observe spec generation " .. generation
  else
    hs.message = "Waiting for canary-operator to observe spec generation " .. generation .. " (status is of generation " .. observed .. ")"
  end
  return hs
end

-- 3. An invalid spec moves no traffic until it is fixed.
if obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    if condition.type == "SpecValid" and condition.status == "False" then
      hs.status = "Degraded"
      if condition.message ~= nil and condition.message ~= "" then
        hs.message = condition.message
      else
        hs.message = message_or("The CanaryRelease spec is invalid")
      end
      return hs
    end
  end
end

-- 4. A finished release whose route was changed afterwards (RouteInSync False).
if obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    if condition.type == "RouteInSync" and condition.status == "False" then
      hs.status = "Degraded"
      hs.message = message_or(condition.message or "The route was changed after the release ended")
      return hs
    end
  end
end

-- 5. The phase.
local phase = obj.status.phase
if phase == "Succeeded" then
  hs.status = "Healthy"
  hs.message = message_or("The canary has all traffic")
elseif phase == "Pending" or phase == "Progressing" then
  hs.status = "Progressing"
  hs.message = message_or("Release " .. phase)
elseif phase == "Paused" then
  hs.status = "Suspended"
  hs.message = message_or("Release paused")
elseif phase == "RolledBack" then
  hs.status = "Degraded"
  hs.message = message_or("Release rolled back: all traffic is on the stable subset")
elseif phase == "Failed" then
  hs.status = "Degraded"
  hs.message = message_or("Release failed: the canary never received traffic")
elseif phase == nil then
  hs.status = "Progressing"
  hs.message = message_or("Waiting for canary-operator to start the release")
else
  hs.status = "Unknown"
  hs.message = "Unknown phase " .. tostring(phase)
end
return hs
