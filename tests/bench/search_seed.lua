-- wrk script of tests/bench/search.sh: creates memories through the API
-- (POST /api/v1/memories) until each thread has had BENCH_PER_THREAD of them
-- created (201); then the thread stops sending (wrk itself runs on until the
-- script that started it sees the count stand still and stops it).
-- Titles (3 words) and contents (BENCH_WORDS words) are drawn from the
-- vocabulary file BENCH_VOCAB with a Zipf-like law (word i with probability
-- about 1/i), so a few words are in most memories and most words are rare.
-- Environment: BENCH_VOCAB, BENCH_PER_THREAD, BENCH_WORDS, BENCH_COOKIE,
-- BENCH_CSRF.

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local words = {}
local log_v
local per_thread
local content_words
local headers
answers = 0
created = 0

function init(args)
  for line in io.lines(os.getenv("BENCH_VOCAB")) do
    words[#words + 1] = line
  end
  log_v = math.log(#words)
  per_thread = tonumber(os.getenv("BENCH_PER_THREAD"))
  content_words = tonumber(os.getenv("BENCH_WORDS"))
  headers = {
    ["Content-Type"] = "application/json",
    ["Cookie"] = "__Host-portcullis=" .. os.getenv("BENCH_COOKIE"),
    ["X-CSRF-Token"] = os.getenv("BENCH_CSRF"),
  }
  math.randomseed(1000 + id)
end

local function word()
  return words[math.floor(math.exp(math.random() * log_v))]
end

local function phrase(n)
  local t = {}
  for i = 1, n do
    t[i] = word()
  end
  return table.concat(t, " ")
end

function request()
  local body = '{"title":"' .. phrase(3) .. '","content":"' .. phrase(content_words) ..
    '","tags":["bench"]}'
  return wrk.format("POST", "/api/v1/memories", headers, body)
end

function response(status, hdrs, body)
  answers = answers + 1
  if status == 201 then
    created = created + 1
  end
  if created >= per_thread then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local a, c = 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("answers")
    c = c + t:get("created")
  end
  io.write(string.format("seed: %d answers, %d created (201)\n", a, c))
end
