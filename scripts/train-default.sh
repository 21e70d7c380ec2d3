#!/bin/sh
# Trains the default model (models/doppel-ae32d) again from ../shared/data, as it was made, then calibrates the
# duplicate thresholds of it and of the models it is compared with. Four training runs, each resumable (run
# this again after an interruption: a finished run re-exports its model and the next one goes on):
#   1. doppel-ae32: the invariant autoencoder (clean + attacked pairs, reconstruction + invariance term);
#   2. doppel-ae32c-contrastive: 1. fine-tuned with the contrastive term (other photos of the batch pushed away);
#   3. doppel-ae32c: 2. with its decoder refitted on clean images, the encoder (and so every vector) unchanged;
#   4. doppel-ae32d: 3.'s encoder, frozen (the same vectors), beside a detail branch that a new decoder also reads,
#      trained on clean images: the reconstructions the app shows (10 epochs, then 10 more at a lower rate).
# Then the corner-view predictors (find cropped copies) of the two models that share those vectors are fitted,
# on imagenette photos that the retrieval benchmark does not use (it takes the first 2,000 as distractors).
# About 3 hours on 2 cores with the wasm backend (most of it steps 1 and 4), much less with tfjs-node.
set -e
cd "$(dirname "$0")/.."
DATA="../shared/data/imagenette/train ../shared/data/cifar10/train"
npx doppel train --data $DATA --name doppel-ae32 --arch doppel-ae32-inv --models models --force \
  --epochs 7 --samples-per-epoch 8000 --batch 16
npx doppel train --data $DATA --name doppel-ae32c-contrastive --arch doppel-ae32-inv --init doppel-ae32 --models models --force \
  --contrastive 1 --epochs 12 --samples-per-epoch 4000 --batch 32 --lr 3e-4
npx doppel train --data $DATA --name doppel-ae32c --arch doppel-ae32-inv --init doppel-ae32c-contrastive --models models --force \
  --decoder-only --epochs 13 --samples-per-epoch 8000 --batch 32 --lr 1e-3
npx doppel train --data $DATA --name doppel-ae32d --arch doppel-ae32-detail --init doppel-ae32c --models models --force \
  --epochs 10 --samples-per-epoch 8000 --batch 32 --lr 1e-3
npx doppel train --data $DATA --name doppel-ae32d --arch doppel-ae32-detail --init doppel-ae32c --models models --force \
  --epochs 20 --samples-per-epoch 8000 --batch 32 --lr 3e-4   # resumes at epoch 11 with the lower rate
for m in doppel-ae32d doppel-ae32c; do
  npx doppel fit-views --model $m --force --data ../shared/data/imagenette/train --images 4000 --skip 2000
done
npx doppel eval --model doppel-ae32d doppel-ae32c doppel-ae32 seed-ae32 --write-card
