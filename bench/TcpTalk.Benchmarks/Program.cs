using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/TcpTalk.Benchmarks -- --filter '*' [--job short] [--inProcess]
// bench/micro.sh runs them all with a short in-process job and writes bench/MICRO-RESULTS.md.
BenchmarkSwitcher.FromAssembly(typeof(TcpTalk.Benchmarks.FramerBenchmarks).Assembly).Run(args);
