%% bench/peers/erlang_bench.erl — the peer-comparison workloads written for Erlang/OTP 25, with
%% the same definitions, sizes and reporting as bench/local_bench.cpp.
%%
%% Written as Erlang is usually written: plain processes with `!` and `receive` (the blocking
%% call from a "plain thread" is gen_server:call, the standard OTP call, since every caller in
%% Erlang is a process). The benchmark process plays the part of our benchmark thread; unlike
%% ours it is itself scheduled on the VM's schedulers. Run with 2 schedulers (`erl +S 2:2`),
%% one per vCPU, as ours runs 2 workers; everything else is the VM's default.
%%
%% Reporting (as Google Benchmark does for ours): one untimed warm-up iteration, then `reps`
%% repetitions; a repetition runs iterations until at least `min-time` seconds were timed and
%% yields one figure. Per repetition: `SAMPLE erlang <workload> <value>`; per workload:
%% `RESULT erlang <workload> <median>`. Counts are checked; a wrong count prints
%% `ERROR erlang <workload> <why>` and the workload is dropped.
%%
%%   erlc -o DIR erlang_bench.erl
%%   erl -noshell +S 2:2 -pa DIR -run erlang_bench main -extra [--reps=N]
%%       [--min-time=SECONDS] [--only=key,key...]
%% (`-extra`: what follows is left to the program, not read as emulator flags.)
%%
%% The remote workloads (Erlang distribution between two nodes on loopback) have their own
%% entry point, run on a distributed node; it starts the second node itself (see remote/0):
%%   erl -noshell +S 2:2 -name a@127.0.0.1 -setcookie C -pa DIR -run erlang_bench remote
%%       -extra [--reps=N] [--rounds=N] [--pipelined=N] [--only=key,key...]
-module(erlang_bench).
-behaviour(gen_server).

-export([main/0, remote/0, echo_server/0]).
-export([init/1, handle_call/3, handle_cast/2]).

-define(SPAWN_POPULATION, 10000).
-define(ROUND_TRIPS_PER_RUN, 100000).

%% ---- entry point -----------------------------------------------------------------------------

main() ->
    Opts = parse_args(init:get_plain_arguments(), #{reps => 5, min_time_ns => 500000000, only => all}),
    bench_spawn(Opts, "spawn_1k_ns_per_actor", 1000),
    bench_spawn(Opts, "spawn_100k_ns_per_actor", 100000),
    bench_spawn_stop(Opts, 1000),
    bench_send(Opts, "send_1to1_msgs_per_s", 1, 1000000),
    bench_send(Opts, "send_100x10k_msgs_per_s", 100, 10000),
    bench_send(Opts, "send_1000x1k_msgs_per_s", 1000, 1000),
    bench_rr_latency(Opts),
    bench_call(Opts),
    bench_rr_in_flight(Opts),
    bench_ring(Opts),
    bench_memory(Opts, 100000),
    erlang:halt(0).

parse_args([], Opts) ->
    Opts;
parse_args(["--reps=" ++ N | Rest], Opts) ->
    parse_args(Rest, Opts#{reps := list_to_integer(N)});
parse_args(["--min-time=" ++ S | Rest], Opts) ->
    Seconds = case string:to_float(S) of
                  {F, ""} -> F;
                  _ -> list_to_integer(S)
              end,
    parse_args(Rest, Opts#{min_time_ns := round(Seconds * 1.0e9)});
parse_args(["--only=" ++ Keys | Rest], Opts) ->
    parse_args(Rest, Opts#{only := string:split(Keys, ",", all)});
parse_args(["--rounds=" ++ N | Rest], Opts) ->
    parse_args(Rest, Opts#{rounds => list_to_integer(N)});
parse_args(["--pipelined=" ++ N | Rest], Opts) ->
    parse_args(Rest, Opts#{pipelined => list_to_integer(N)});
parse_args([Other | _], _Opts) ->
    io:format(standard_error, "erlang_bench: unknown argument ~s~n", [Other]),
    erlang:halt(2).

%% ---- processes (the same roles as bench/common.hpp) ------------------------------------------

%% Does nothing; `flush` proves it is running. Stopped by an exit signal.
noop() ->
    receive
        {flush, From} -> From ! {flushed, 0}, noop()
    end.

%% Counts `count` messages; `flush` replies with the total (messages between two processes
%% are delivered in order, so every earlier message was handled when the reply arrives).
counter(N) ->
    receive
        {count, _} -> counter(N + 1);
        {flush, From} -> From ! {flushed, N}, counter(N)
    end.

calc() ->
    receive
        {add, From, A, B} -> From ! {sum, A + B}, calc()
    end.

%% On `run`, does Rounds sequential round trips to Calc (each request waits for its reply, so
%% exactly one is outstanding), optionally timing each; replies with the correct count and the
%% samples. A driver only ever waits for one reply, so a plain `{sum, S}` pattern is enough.
driver(Calc) ->
    receive
        {run, From, Rounds, Record} ->
            {Good, Samples} = rounds(Calc, 0, Rounds, Record, 0, []),
            From ! {ran, Good, Samples},
            driver(Calc)
    end.

rounds(_Calc, N, N, _Record, Good, Samples) ->
    {Good, Samples};
rounds(Calc, I, N, false, Good, Samples) ->
    Calc ! {add, self(), I, 1},
    receive
        {sum, S} -> rounds(Calc, I + 1, N, false, Good + ok(S =:= I + 1), Samples)
    end;
rounds(Calc, I, N, true, Good, Samples) ->
    T0 = erlang:monotonic_time(nanosecond),
    Calc ! {add, self(), I, 1},
    receive
        {sum, S} ->
            T1 = erlang:monotonic_time(nanosecond),
            rounds(Calc, I + 1, N, true, Good + ok(S =:= I + 1), [T1 - T0 | Samples])
    end.

ok(true) -> 1;
ok(false) -> 0.

%% A ring node: forwards the token to its successor, or tells Main when no hops are left.
ring_node(Main) ->
    receive
        {next, Next, From} -> From ! linked, ring_loop(Main, Next)
    end.

ring_loop(Main, Next) ->
    receive
        {token, 0} -> Main ! ring_done, ring_loop(Main, Next);
        {token, R} -> Next ! {token, R - 1}, ring_loop(Main, Next)
    end.

%% gen_server callbacks: the calculator behind gen_server:call.
init([]) -> {ok, nostate}.
handle_call({add, A, B}, _From, State) -> {reply, A + B, State}.
handle_cast(_Msg, State) -> {noreply, State}.

%% ---- helpers ---------------------------------------------------------------------------------

now_ns() -> erlang:monotonic_time(nanosecond).

check(true, _Why) -> ok;
check(false, Why) -> throw({check_failed, Why}).

flush(Pid) ->
    Pid ! {flush, self()},
    receive
        {flushed, N} -> N
    end.

spawn_n(0, Acc) -> Acc;
spawn_n(N, Acc) -> spawn_n(N - 1, [spawn(fun noop/0) | Acc]).

%% Stops every process in Pids (an exit signal, as a supervisor's shutdown) and waits for the
%% monitor of each to report it gone. Nothing else is monitored while this runs, so counting
%% 'DOWN' messages is enough.
stop_all(Pids) ->
    Count = lists:foldl(fun(P, N) ->
                                erlang:monitor(process, P),
                                exit(P, shutdown),
                                N + 1
                        end, 0, Pids),
    wait_down(Count).

wait_down(0) -> ok;
wait_down(N) ->
    receive
        {'DOWN', _, process, _, _} -> wait_down(N - 1)
    end.

%% ---- the harness -----------------------------------------------------------------------------

wanted(_Key, #{only := all}) -> true;
wanted(Key, #{only := Keys}) -> lists:member(Key, Keys).

%% Runs Iter (State -> {TimedNs, Items, State}) once untimed, then `reps` repetitions of at
%% least `min-time` of timed time each; Kind is ns_per_item or items_per_s. Returns the final
%% state, for teardown.
measure(Key, Kind, Iter, State0, Opts = #{reps := Reps}) ->
    case wanted(Key, Opts) of
        false -> State0;
        true ->
            try
                {_, _, State1} = Iter(State0),
                {Values, State} = repeat(Reps, Key, Kind, Iter, State1, Opts, []),
                result(Key, median(Values)),
                State
            catch
                throw:{check_failed, Why} ->
                    io:format("ERROR erlang ~s ~s~n", [Key, Why]),
                    State0
            end
    end.

repeat(0, _Key, _Kind, _Iter, State, _Opts, Acc) ->
    {lists:reverse(Acc), State};
repeat(R, Key, Kind, Iter, State0, Opts = #{min_time_ns := MinNs}, Acc) ->
    {Ns, Items, State} = run_for(MinNs, Iter, State0, 0, 0),
    Value = case Kind of
                ns_per_item -> Ns / Items;
                items_per_s -> Items * 1.0e9 / Ns
            end,
    sample(Key, Value),
    repeat(R - 1, Key, Kind, Iter, State, Opts, [Value | Acc]).

run_for(MinNs, _Iter, State, Ns, Items) when Ns >= MinNs ->
    {Ns, Items, State};
run_for(MinNs, Iter, State0, Ns, Items) ->
    {DNs, DItems, State} = Iter(State0),
    run_for(MinNs, Iter, State, Ns + DNs, Items + DItems).

%% Latency percentiles: Iter() returns one run's samples (ns); a repetition runs for at least
%% `min-time` of wall time and reports p50 and p99 over all of its samples (nearest rank).
measure_latency(KeyP50, KeyP99, Iter, Opts = #{reps := Reps, min_time_ns := MinNs}) ->
    case wanted(KeyP50, Opts) orelse wanted(KeyP99, Opts) of
        false -> ok;
        true ->
            try
                _ = Iter(),
                Pairs = [begin
                             Sorted = lists:sort(collect_for(MinNs, Iter, now_ns(), [])),
                             P50 = percentile(Sorted, 50),
                             P99 = percentile(Sorted, 99),
                             sample(KeyP50, P50),
                             sample(KeyP99, P99),
                             {P50, P99}
                         end || _ <- lists:seq(1, Reps)],
                result(KeyP50, median([P || {P, _} <- Pairs])),
                result(KeyP99, median([P || {_, P} <- Pairs]))
            catch
                throw:{check_failed, Why} ->
                    io:format("ERROR erlang ~s ~s~n", [KeyP50, Why])
            end
    end.

collect_for(MinNs, Iter, T0, Acc) ->
    case now_ns() - T0 >= MinNs of
        true -> lists:append(Acc);
        false -> collect_for(MinNs, Iter, T0, [Iter() | Acc])
    end.

%% Nearest rank: the smallest sample with at least Pct % of all samples at or below it.
percentile(Sorted, Pct) ->
    N = length(Sorted),
    lists:nth(max(1, (N * Pct + 99) div 100), Sorted).

median(Values) ->
    Sorted = lists:sort(Values),
    N = length(Sorted),
    case N rem 2 of
        1 -> lists:nth(N div 2 + 1, Sorted);
        0 -> (lists:nth(N div 2, Sorted) + lists:nth(N div 2 + 1, Sorted)) / 2
    end.

sample(Key, Value) -> io:format("SAMPLE erlang ~s ~.1f~n", [Key, float(Value)]).
result(Key, Value) -> io:format("RESULT erlang ~s ~.1f~n", [Key, float(Value)]).

%% ---- workloads -------------------------------------------------------------------------------

%% Spawn N no-op processes from the benchmark process, pids kept in a list. Stopping a
%% population of at least 10 000 is untimed.
bench_spawn(Opts, Key, N) ->
    Iter = fun({Batches, Count}) ->
                   T0 = now_ns(),
                   Pids = spawn_n(N, []),
                   Ns = now_ns() - T0,
                   case Count + N >= ?SPAWN_POPULATION of
                       true -> stop_all(lists:append([Pids | Batches])), {Ns, N, {[], 0}};
                       false -> {Ns, N, {[Pids | Batches], Count + N}}
                   end
           end,
    {Batches, _} = measure(Key, ns_per_item, Iter, {[], 0}, Opts),
    stop_all(lists:append(Batches)).

%% Spawn N no-op processes, then stop them all and wait until every one is gone.
bench_spawn_stop(Opts, N) ->
    Iter = fun(none) ->
                   T0 = now_ns(),
                   stop_all(spawn_n(N, [])),
                   {now_ns() - T0, N, none}
           end,
    measure("spawn_stop_1k_ns_per_actor", ns_per_item, Iter, none, Opts).

%% NActors counters, PerActor messages to each sent round-robin by the benchmark process
%% (Erlang mailboxes are unbounded: nothing to retry); then a flush to each confirms and
%% checks every count.
bench_send(Opts, Key, NActors, PerActor) ->
    Counters = [spawn(fun() -> counter(0) end) || _ <- lists:seq(1, NActors)],
    Iter = fun(Expected0) ->
                   T0 = now_ns(),
                   send_rounds(PerActor, Counters),
                   Expected = Expected0 + PerActor,
                   [check(flush(C) =:= Expected, "lost") || C <- Counters],
                   {now_ns() - T0, NActors * PerActor, Expected}
           end,
    measure(Key, items_per_s, Iter, 0, Opts),
    stop_all(Counters).

send_rounds(0, _Counters) -> ok;
send_rounds(R, Counters) -> send_each(Counters), send_rounds(R - 1, Counters).

send_each([]) -> ok;
send_each([C | Cs]) -> C ! {count, 0}, send_each(Cs).

%% Latency of sequential request-response between two processes: a driver does 100 000
%% sequential requests per run and times each round trip; p50 and p99 over a repetition.
bench_rr_latency(Opts) ->
    Calc = spawn(fun calc/0),
    Driver = spawn(fun() -> driver(Calc) end),
    Iter = fun() ->
                   Driver ! {run, self(), ?ROUND_TRIPS_PER_RUN, true},
                   receive
                       {ran, Good, Samples} ->
                           check(Good =:= ?ROUND_TRIPS_PER_RUN, "wrong sum"),
                           Samples
                   end
           end,
    measure_latency("rr_actor_p50_ns", "rr_actor_p99_ns", Iter, Opts),
    stop_all([Calc, Driver]).

%% The blocking call: gen_server:call to a calculator, one round trip at a time.
bench_call(Opts) ->
    {ok, Calc} = gen_server:start(?MODULE, [], []),
    Calls = 1000,
    Iter = fun(none) ->
                   T0 = now_ns(),
                   [check(gen_server:call(Calc, {add, 42, 58}) =:= 100, "wrong sum")
                    || _ <- lists:seq(1, Calls)],
                   {now_ns() - T0, Calls, none}
           end,
    measure("call_from_thread_ns", ns_per_item, Iter, none, Opts),
    gen_server:stop(Calc).

%% 100 requests in flight: 100 drivers, each 10 000 sequential requests to one calculator.
%% The benchmark process starts all 100 runs, then collects the 100 replies.
bench_rr_in_flight(Opts) ->
    Requesters = 100,
    PerRequester = 10000,
    Calc = spawn(fun calc/0),
    Drivers = [spawn(fun() -> driver(Calc) end) || _ <- lists:seq(1, Requesters)],
    Iter = fun(none) ->
                   T0 = now_ns(),
                   [D ! {run, self(), PerRequester, false} || D <- Drivers],
                   Good = lists:sum([receive {ran, G, _} -> G end || _ <- Drivers]),
                   check(Good =:= Requesters * PerRequester, "wrong sum"),
                   {now_ns() - T0, Requesters * PerRequester, none}
           end,
    measure("rr_100_in_flight_req_per_s", items_per_s, Iter, none, Opts),
    stop_all([Calc | Drivers]).

%% A ring of 1000 processes passes one token 1M hops; the benchmark process injects it and
%% waits until the last node tells it the hops are done.
bench_ring(Opts) ->
    Nodes = 1000,
    Hops = 1000000,
    Self = self(),
    Ring = [spawn(fun() -> ring_node(Self) end) || _ <- lists:seq(1, Nodes)],
    [First | Rest] = Ring,
    [begin P ! {next, Next, Self}, receive linked -> ok end end
     || {P, Next} <- lists:zip(Ring, Rest ++ [First])],
    Iter = fun(none) ->
                   T0 = now_ns(),
                   First ! {token, Hops},
                   receive ring_done -> ok end,
                   {now_ns() - T0, Hops, none}
           end,
    measure("ring_1000_hops_per_s", items_per_s, Iter, none, Opts),
    stop_all(Ring).

%% Memory per idle process: erlang:memory(processes) before and after spawning N idle no-op
%% processes and confirming each runs with a flush, over N. The benchmark process's own growth
%% (the list of N pids it holds, as ours holds a vector of handles reserved outside the
%% measurement) is subtracted. ERTS accounts process memory exactly and reuses nothing that
%% would hide a second measurement, so the repetitions run in one VM.
bench_memory(Opts = #{reps := Reps}, N) ->
    Key = "memory_idle_actor_bytes",
    case wanted(Key, Opts) of
        false -> ok;
        true ->
            stop_all(spawn_n(64, [])),  % warm-up
            Values = [begin
                          garbage_collect(),
                          {memory, Self0} = process_info(self(), memory),
                          Total0 = erlang:memory(processes),
                          Pids = spawn_n(N, []),
                          [flush(P) || P <- Pids],
                          Total1 = erlang:memory(processes),
                          {memory, Self1} = process_info(self(), memory),
                          stop_all(Pids),
                          V = ((Total1 - Total0) - (Self1 - Self0)) / N,
                          sample(Key, V),
                          V
                      end || _ <- lists:seq(1, Reps)],
            result(Key, median(Values))
    end.

%% ---- remote: two nodes over Erlang distribution ----------------------------------------------
%%
%% The workloads of cineyma_bench_remote (bench/remote_bench.cpp), written the Erlang way: an
%% echo server process on node B answers `{From, Ref, Id, Payload}` (a 64-byte binary) with
%% `{Ref, Id, Payload}`; on node A (this one):
%%  (a) one process makes calls one at a time, timing each (send + receive on a fresh
%%      reference, what gen_server:call does minus the monitor); Rounds div 10 untimed warm-up
%%      calls first, as ours. Median and p99 in µs, with the same index convention as ours
%%      (cineyma_bench::summarize: sorted[N div 2], sorted[min(N - 1, N * 99 div 100)]);
%%  (b) 100 processes each make calls back to back, so 100 are in flight on the one
%%      connection between the nodes; requests per second over Pipelined calls.
%% Every reply is checked (id, payload size). Node B is started with peer (OTP 25) with the
%% same emulator flags (+S 2:2) and cookie, and halts by itself when node A goes away, so a
%% crash or a killed run leaves no node behind. The nodes find each other through the epmd
%% that ERL_EPMD_PORT names (run.sh starts a private one and stops it afterwards). A wrong
%% reply, a lost node or a phase that overruns its deadline prints `ERROR erlang <key> <why>`
%% for every key asked for and halts with status 1: no figure is made up.

-define(PAYLOAD_BYTES, 64).
-define(IN_FLIGHT, 100).
-define(REMOTE_KEYS, ["remote_rtt_us", "remote_rtt_p99_us", "remote_pipelined_rps"]).
%% Far above what a phase takes (about a second); only a hang reaches it.
-define(PHASE_DEADLINE_MS, 60000).

remote() ->
    Opts = #{reps := Reps, rounds := Rounds, pipelined := Calls} =
        parse_args(init:get_plain_arguments(),
                   #{reps => 5, min_time_ns => 500000000, only => all,
                     rounds => 10000, pipelined => 200000}),
    Keys = [K || K <- ?REMOTE_KEYS, wanted(K, Opts)],
    if
        Keys =:= [] -> erlang:halt(0);
        node() =:= nonode@nohost -> remote_fail(Keys, "node A is not distributed (erl -name)");
        Reps < 1; Rounds < 1; Calls < ?IN_FLIGHT -> remote_fail(Keys, "bad --reps/--rounds/--pipelined");
        true -> ok
    end,
    {Peer, NodeB} = start_node_b(Keys),
    Server = spawn(NodeB, ?MODULE, echo_server, []),
    erlang:monitor(process, Server),
    WantRtt = wanted("remote_rtt_us", Opts) orelse wanted("remote_rtt_p99_us", Opts),
    WantPiped = wanted("remote_pipelined_rps", Opts),
    Figures = [begin
                   Rtt = case WantRtt of
                             true ->
                                 {Median, P99} = summarize_us(remote_rtt(Server, Rounds, Keys)),
                                 remote_sample("remote_rtt_us", Median, Opts),
                                 remote_sample("remote_rtt_p99_us", P99, Opts),
                                 [{"remote_rtt_us", Median}, {"remote_rtt_p99_us", P99}];
                             false -> []
                         end,
                   Piped = case WantPiped of
                               true ->
                                   Rps = remote_pipelined(Server, Calls, Keys),
                                   remote_sample("remote_pipelined_rps", Rps, Opts),
                                   [{"remote_pipelined_rps", Rps}];
                               false -> []
                           end,
                   Rtt ++ Piped
               end || _ <- lists:seq(1, Reps)],
    [io:format("RESULT erlang ~s ~.3f~n", [K, float(median([V || {K2, V} <- lists:append(Figures), K2 =:= K]))])
     || K <- Keys],
    Server ! stop,
    peer:stop(Peer),
    erlang:halt(0).

%% Node B: same host and naming mode as this node, a name unique to this run (the OS pid), the
%% benchmark's code path. peer:start, not start_link: a lost node B is reported by the echo
%% server's monitor, not by an exit signal that would kill this process without an ERROR line.
start_node_b(Keys) ->
    [_, Host] = string:split(atom_to_list(node()), "@"),
    Args = ["+S", "2:2", "-setcookie", atom_to_list(erlang:get_cookie()),
            "-pa", filename:dirname(code:which(?MODULE))],
    Start = #{name => "cineyma_bench_b_" ++ os:getpid(), host => Host,
              longnames => net_kernel:longnames(), args => Args, wait_boot => 20000},
    try peer:start(Start) of
        {ok, Peer, NodeB} -> {Peer, NodeB};
        Other -> remote_fail(Keys, io_lib:format("cannot start node B: ~w", [Other]))
    catch
        Class:Reason -> remote_fail(Keys, io_lib:format("cannot start node B: ~w:~w", [Class, Reason]))
    end.

echo_server() ->
    receive
        {From, Ref, Id, Payload} -> From ! {Ref, Id, Payload}, echo_server();
        stop -> ok
    end.

payload() -> binary:copy(<<16#42>>, ?PAYLOAD_BYTES).

%% (a) One caller process; returns the timed round trips in ns.
remote_rtt(Server, Rounds, Keys) ->
    Main = self(),
    Warmup = Rounds div 10,
    Caller = spawn(fun() ->
                           Main ! {rtt, self(), checked(fun() -> rtt_calls(Server, payload(), 0, Warmup + Rounds, Warmup, []) end)}
                   end),
    await_all([Caller], Server, Keys, "round trips", []).

rtt_calls(_Server, _Payload, N, N, _Warmup, Samples) ->
    Samples;
rtt_calls(Server, Payload, I, N, Warmup, Samples) ->
    T0 = erlang:monotonic_time(nanosecond),
    Ref = make_ref(),
    Server ! {self(), Ref, I, Payload},
    receive
        {Ref, Id, Echo} ->
            T1 = erlang:monotonic_time(nanosecond),
            check_echo(I, Id, Echo),
            Kept = case I >= Warmup of
                       true -> [T1 - T0 | Samples];
                       false -> Samples
                   end,
            rtt_calls(Server, Payload, I + 1, N, Warmup, Kept)
    end.

%% (b) 100 caller processes, spawned before the clock starts and released together; the
%% figure is the calls of all of them over the time until the last one is done.
remote_pipelined(Server, Calls, Keys) ->
    PerCaller = Calls div ?IN_FLIGHT,
    Main = self(),
    Payload = payload(),
    Callers = [spawn(fun() ->
                             receive go -> ok end,
                             Main ! {rtt, self(), checked(fun() -> pipe_calls(Server, Payload, 0, PerCaller) end)}
                     end) || _ <- lists:seq(1, ?IN_FLIGHT)],
    T0 = now_ns(),
    [C ! go || C <- Callers],
    await_all(Callers, Server, Keys, "pipelined calls", []),
    PerCaller * ?IN_FLIGHT * 1.0e9 / (now_ns() - T0).

pipe_calls(_Server, _Payload, N, N) ->
    [];
pipe_calls(Server, Payload, I, N) ->
    Ref = make_ref(),
    Server ! {self(), Ref, I, Payload},
    receive
        {Ref, Id, Echo} -> check_echo(I, Id, Echo), pipe_calls(Server, Payload, I + 1, N)
    end.

check_echo(I, I, Echo) when byte_size(Echo) =:= ?PAYLOAD_BYTES -> ok;
check_echo(I, Id, Echo) ->
    throw({check_failed, io_lib:format("call ~w answered with id ~w and ~w payload bytes", [I, Id, byte_size(Echo)])}).

checked(F) ->
    try {ok, F()}
    catch throw:{check_failed, Why} -> {failed, Why}
    end.

%% Waits for every caller's `{rtt, Pid, Result}` within one deadline for the whole phase;
%% returns their samples appended.
await_all(Callers, Server, Keys, Phase, Acc) ->
    await_all(length(Callers), erlang:monotonic_time(millisecond) + ?PHASE_DEADLINE_MS,
              Server, Keys, Phase, Acc).

await_all(0, _Deadline, _Server, _Keys, _Phase, Acc) ->
    lists:append(Acc);
await_all(N, Deadline, Server, Keys, Phase, Acc) ->
    Left = max(0, Deadline - erlang:monotonic_time(millisecond)),
    receive
        {rtt, _, {ok, Samples}} -> await_all(N - 1, Deadline, Server, Keys, Phase, [Samples | Acc]);
        {rtt, _, {failed, Why}} -> remote_fail(Keys, [Phase, ": ", Why]);
        {'DOWN', _, process, Server, Why} ->
            remote_fail(Keys, io_lib:format("~s: the echo server on node B is gone (~w)", [Phase, Why]))
    after Left ->
            remote_fail(Keys, io_lib:format("~s: not done within ~w s", [Phase, ?PHASE_DEADLINE_MS div 1000]))
    end.

summarize_us(SamplesNs) ->
    Sorted = lists:sort(SamplesNs),
    N = length(Sorted),
    {lists:nth(N div 2 + 1, Sorted) / 1000, lists:nth(min(N - 1, N * 99 div 100) + 1, Sorted) / 1000}.

remote_sample(Key, Value, Opts) ->
    case wanted(Key, Opts) of
        true -> io:format("SAMPLE erlang ~s ~.3f~n", [Key, float(Value)]);
        false -> ok
    end.

remote_fail(Keys, Why) ->
    [io:format("ERROR erlang ~s ~s~n", [K, Why]) || K <- Keys],
    erlang:halt(1).
