using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using Tina.Runtime;

namespace Tina.PModels;

/// <summary>
/// A p-Model network: a feature extractor followed by one linear classifier <see cref="fc"/> (C rows, one per class).
/// Input: normalised images [N, 3, 32, 32] (see <see cref="Normalization"/>); output: logits [N, C].
/// </summary>
public abstract class PModelNetwork : Module<Tensor, Tensor>
{
    /// <summary>The linear classifier; its rows are the per-class vectors that classifier selection picks.</summary>
#pragma warning disable IDE1006 // parameter names must match the state-dict names of the paper's code (fc.weight)
    public readonly Linear fc;
#pragma warning restore IDE1006

    /// <summary>Creates the network with a <paramref name="featureDim"/>→<paramref name="numClasses"/> classifier.</summary>
    protected PModelNetwork(string name, int featureDim, int numClasses) : base(name)
    {
        fc = Linear(featureDim, numClasses, hasBias: true);
    }

    /// <summary>The architecture this network implements.</summary>
    public abstract PModelArch Arch { get; }

    /// <summary>Number of classes (rows of <see cref="fc"/>).</summary>
    public int NumClasses => (int)fc.weight!.shape[0];

    /// <summary>Pooled features [N, D] fed to the classifier.</summary>
    public abstract Tensor Features(Tensor x);

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var f = Features(x);
        return fc.forward(f);
    }

    /// <summary>Creates an untrained network of <paramref name="arch"/> with <paramref name="numClasses"/> outputs.</summary>
    public static PModelNetwork Create(PModelArch arch, int numClasses) => arch switch
    {
        PModelArch.Cnn5k => new Cnn5k(numClasses),
        PModelArch.ResNet20 => new ResNet20(numClasses),
        PModelArch.ResNet18 => new ResNet18Head(numClasses),
        _ => throw new ArgumentOutOfRangeException(nameof(arch)),
    };

    /// <summary>
    /// Creates an untrained network whose initial weights depend only on <paramref name="seed"/>, also when other
    /// threads create networks at the same time (<see cref="Runtime.Seeds.WithGlobalSeed{T}"/>).
    /// </summary>
    public static PModelNetwork Create(PModelArch arch, int numClasses, long seed) =>
        Runtime.Seeds.WithGlobalSeed(seed, () => Create(arch, numClasses));
}

/// <summary>
/// CNN-5K (G.pt's CIFAR CNN): conv 3→16 3×3 stride 2 · ReLU · conv 16→32 3×3 · ReLU · global average pool · linear 32→C.
/// No biases in the convolutions, no batch norm: 5,370 parameters for C = 10.
/// </summary>
public sealed class Cnn5k : PModelNetwork
{
    private readonly Conv2d conv1, conv2;

    /// <summary>Creates the network with <paramref name="numClasses"/> outputs.</summary>
    public Cnn5k(int numClasses = 10) : base(nameof(Cnn5k), 32, numClasses)
    {
        conv1 = Conv2d(3, 16, 3, stride: 2, padding: 1, bias: false);
        conv2 = Conv2d(16, 32, 3, stride: 1, padding: 1, bias: false);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override PModelArch Arch => PModelArch.Cnn5k;

    /// <inheritdoc />
    public override Tensor Features(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = functional.relu(conv2.forward(functional.relu(conv1.forward(x))));
        return h.mean([2L, 3L]).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// CIFAR ResNet-20 (He et al. 2016): conv 3→16, three stages of three basic blocks (16, 32, 64 channels; stride 2 at
/// the start of stages 2 and 3, with a 1×1 conv + BN projection shortcut), 8×8 global average pool, linear 64→C.
/// Only the head (<see cref="PModelNetwork.fc"/>, 650 parameters for C = 10) is personalized.
/// </summary>
public sealed class ResNet20 : PModelNetwork
{
    private readonly Conv2d conv1;
    private readonly BatchNormalization bn1;
    private readonly Sequential layer1, layer2, layer3;

    /// <summary>Creates the network with <paramref name="numClasses"/> outputs.</summary>
    public ResNet20(int numClasses = 100) : base(nameof(ResNet20), 64, numClasses)
    {
        conv1 = Conv2d(3, 16, 3, stride: 1, padding: 1, bias: false);
        bn1 = new BatchNormalization(16);
        layer1 = Stage(16, 16, 1);
        layer2 = Stage(16, 32, 2);
        layer3 = Stage(32, 64, 2);
        RegisterComponents();
        foreach (var (name, p) in named_parameters())
            if (name.EndsWith("conv1.weight") || name.EndsWith("conv2.weight") || name.EndsWith("downsample.0.weight"))
                init.kaiming_normal_(p, mode: init.FanInOut.FanOut, nonlinearity: init.NonlinearityType.ReLU);
    }

    private static Sequential Stage(int cin, int cout, int stride) =>
        Sequential(("0", new BasicBlock(cin, cout, stride)), ("1", new BasicBlock(cout, cout, 1)), ("2", new BasicBlock(cout, cout, 1)));

    /// <inheritdoc />
    public override PModelArch Arch => PModelArch.ResNet20;

    /// <inheritdoc />
    public override Tensor Features(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = functional.relu(bn1.forward(conv1.forward(x)));
        h = layer3.forward(layer2.forward(layer1.forward(h)));
        return h.mean([2L, 3L]).MoveToOuterDisposeScope();
    }

    /// <summary>Two 3×3 conv + BN layers with a residual connection (projection when the shape changes).</summary>
    private sealed class BasicBlock : Module<Tensor, Tensor>
    {
        private readonly Conv2d conv1, conv2;
        private readonly BatchNormalization bn1, bn2;
        private readonly Sequential? downsample;

        public BasicBlock(int cin, int cout, int stride) : base(nameof(BasicBlock))
        {
            conv1 = Conv2d(cin, cout, 3, stride: stride, padding: 1, bias: false);
            bn1 = new BatchNormalization(cout);
            conv2 = Conv2d(cout, cout, 3, stride: 1, padding: 1, bias: false);
            bn2 = new BatchNormalization(cout);
            if (stride != 1 || cin != cout)
                downsample = Sequential(("0", Conv2d(cin, cout, 1, stride: stride, bias: false)), ("1", new BatchNormalization(cout)));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var h = functional.relu(bn1.forward(conv1.forward(x)));
            h = bn2.forward(conv2.forward(h));
            var shortcut = downsample is null ? x : downsample.forward(x);
            return functional.relu(h.Plus(shortcut)).MoveToOuterDisposeScope();
        }
    }
}

/// <summary>
/// A 512→C linear head on ML.NET's pretrained ResNet-18 (<see cref="Tina.MLNet.ResNet18Backbone"/>), which is frozen
/// and runs in ONNX Runtime, outside this module: <see cref="Features"/> computes its features through
/// <see cref="Tina.Features.BackboneFeatures"/> (the 32×32 input resized to 224×224 inside the backbone's graph), and bulk
/// feature extraction over a whole image set goes through the same service and its cache
/// (<see cref="Accuracy.Features(PModelNetwork, Data.ImageSet, Device?)"/>). Only <see cref="PModelNetwork.fc"/>
/// has parameters: 5,130 for C = 10.
/// </summary>
public sealed class ResNet18Head : PModelNetwork
{
    /// <summary>Creates the head with <paramref name="numClasses"/> outputs on the process's ResNet-18 features.</summary>
    public ResNet18Head(int numClasses = 100) : base(nameof(ResNet18Head), Tina.MLNet.ResNet18Backbone.FeatureDim, numClasses)
    {
        RegisterComponents();
    }

    /// <summary>The backbone features this head reads.</summary>
    public Tina.Features.BackboneFeatures Backbone => Tina.Features.BackboneFeatures.ResNet18;

    /// <inheritdoc />
    public override PModelArch Arch => PModelArch.ResNet18;

    /// <inheritdoc />
    /// <remarks>The input is normalised as every p-Model's ((x − 0.5)/0.5); the backbone reads x in [0, 1].</remarks>
    public override Tensor Features(Tensor x)
    {
        using var _ = no_grad();
        using var pixels = x.Times(0.5).PlusInPlace(0.5);
        using var f = Backbone.Of(pixels);
        return f.to(x.device);
    }
}
