using System.CommandLine;
using DeepSeekMesh.Cli;
using DeepSeekMesh.Cli.Commands;

var root = new RootCommand("dsmesh — DeepSeekMesh: serve DeepSeek-V3-architecture models from an Orleans cluster")
{
    LogitsCommand.Create(),
    GenerateCommand.Create(),
    InspectCommand.Create(),
    InitModelCommand.Create(),
    BenchCommand.Create(),
    TextCommands.Tokenize(),
    TextCommands.Detokenize(),
    TextCommands.ChatTemplate(),
    ServeCommand.Create(),
    GatewayCommand.Create(),
    SiloCommand.Create(),
};
return CliErrors.Run(() =>
{
    DeepSeekMesh.Model.Native.NativeHeap.Configure(); // glibc: a fixed mmap threshold and 2 arenas, so freed tensors go back to the system
    DeepSeekMesh.Model.Native.LibTorchRuntime.Preload(); // the external build's DSMESH_LIBTORCH, before the first tensor
    return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
});
