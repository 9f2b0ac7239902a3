using Tina.Data;
using Tina.Generic;
using Tina.PModels;

namespace Tina.Tests;

/// <summary>Datasets loaded once per test run and shared by all tests.</summary>
internal static class Fixtures
{
    /// <summary>The real CIFAR-100 (50,000 train / 10,000 test), opened once per run through the shared dataset store and its cache.</summary>
    public static ImageDataset Cifar => Data.SharedDatasets.Get("cifar100");

    /// <summary>A small real subset: the first <paramref name="classes"/> classes of CIFAR-100, at most <paramref name="perClass"/> train images each.</summary>
    public static ImageDataset CifarSubset(int classes, int perClass, int testPerClass = 100)
    {
        var full = Cifar;
        ImageSet Take(ImageSet s, int per)
        {
            var counts = new int[classes];
            var idx = new List<int>();
            for (int i = 0; i < s.Count; i++)
                if (s.Labels[i] < classes && counts[s.Labels[i]]++ < per) idx.Add(i);
            var pixels = new byte[idx.Count * ImageSet.ImageBytes];
            for (int k = 0; k < idx.Count; k++) s.Image(idx[k]).CopyTo(pixels.AsSpan(k * ImageSet.ImageBytes));
            return new ImageSet(pixels, idx.Select(i => s.Labels[i]).ToArray());
        }
        return new ImageDataset($"cifar100-first{classes}", full.ClassNames.Take(classes).ToArray(), Take(full.Train, perClass), Take(full.Test, testPerClass));
    }

    /// <summary>An untrained generic model of <paramref name="arch"/> for <paramref name="data"/> (seeded weights), for tests that only need its shapes.</summary>
    public static GenericModel UntrainedGeneric(ImageDataset data, PModelArch arch, int seed) =>
        new(PModelNetwork.Create(arch, data.NumClasses, seed),
            new GenericModelCard { Arch = arch.ToName(), Dataset = data.Name, Classes = data.ClassNames, Epochs = 0, TestAccuracy = 0, Seed = seed, Optimizer = "none" });
}
