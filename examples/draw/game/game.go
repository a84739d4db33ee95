// Package game is the multiplayer draw-and-guess room of the Zocket guide
// ("Multiplayer Draw"), in Go: players join, take turns drawing a secret
// word, and the others guess it.
package game

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/zocket-go/zocket"
)

// Stroke is one line on the canvas.
type Stroke struct {
	Points [][2]float64 `json:"points"`
	Color  string       `json:"color" validate:"required"`
	Width  float64      `json:"width" validate:"gt=0"`
}

// Player is one participant.
type Player struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Score        int    `json:"score"`
	Color        string `json:"color"`
	ConnectionID string `json:"connectionId"`
}

// Guess is one guess shown to everybody.
type Guess struct {
	PlayerID string `json:"playerId"`
	Name     string `json:"name"`
	Text     string `json:"text"`
	Correct  bool   `json:"correct"`
}

// Phases of a round.
const (
	PhaseLobby    = "lobby"
	PhaseDrawing  = "drawing"
	PhaseRoundEnd = "roundEnd"
)

// State is a drawing room's state.
type State struct {
	Players   []Player `json:"players"`
	Phase     string   `json:"phase"`
	DrawerID  string   `json:"drawerId"`
	Word      string   `json:"word"`
	Hint      string   `json:"hint"`
	Strokes   []Stroke `json:"strokes"`
	Guesses   []Guess  `json:"guesses"`
	Round     int      `json:"round"`
	MaxRounds int      `json:"maxRounds"`
}

// Words are the secret words.
var Words = []string{"cat", "house", "rocket", "pizza", "guitar", "tree", "bicycle", "sun"}

var playerColors = []string{"#ef4444", "#3b82f6", "#22c55e", "#eab308", "#a855f7", "#ec4899"}

// CorrectGuessed is the payload of the correctGuess event.
type CorrectGuessed struct {
	Name string `json:"name"`
	Word string `json:"word"`
}

// CorrectGuess is broadcast when someone guesses the word.
var CorrectGuess = zocket.Event[CorrectGuessed]("correctGuess")

type ctx = zocket.Context[State, zocket.NoData]

// JoinInput and Joined are join's input and result.
type JoinInput struct {
	Name string `json:"name" validate:"required,max=32"`
}

// Joined is join's result.
type Joined struct {
	PlayerID string `json:"playerId"`
	Color    string `json:"color"`
}

// Join adds a player, or reattaches a returning one by name.
var Join = zocket.Method("join", func(c *ctx, in JoinInput) (Joined, error) {
	if i := slices.IndexFunc(c.State.Players, func(p Player) bool { return p.Name == in.Name }); i >= 0 {
		p := &c.State.Players[i]
		p.ConnectionID = c.ClientID
		return Joined{PlayerID: p.ID, Color: p.Color}, nil
	}
	id := strconv.FormatUint(rand.Uint64(), 36)
	color := playerColors[len(c.State.Players)%len(playerColors)]
	c.State.Players = append(c.State.Players, Player{ID: id, Name: in.Name, Color: color, ConnectionID: c.ClientID})
	return Joined{PlayerID: id, Color: color}, nil
})

// StartRound picks the next drawer and a word.
var StartRound = zocket.MethodNoIO("startRound", func(c *ctx) error {
	s := c.State
	if len(s.Players) < 2 {
		return errors.New("Need at least 2 players")
	}
	s.Round++
	s.Strokes, s.Guesses = nil, nil
	s.DrawerID = s.Players[(s.Round-1)%len(s.Players)].ID
	s.Word = Words[rand.IntN(len(Words))]
	s.Hint = hint(s.Word)
	s.Phase = PhaseDrawing
	return nil
})

func hint(word string) string {
	return strings.TrimSpace(strings.Repeat("_ ", len([]rune(word))))
}

// DrawInput is draw's input.
type DrawInput struct {
	Stroke Stroke `json:"stroke"`
}

// Draw adds a stroke while a round is on.
var Draw = zocket.MethodNoResult("draw", func(c *ctx, in DrawInput) error {
	if c.State.Phase == PhaseDrawing {
		c.State.Strokes = append(c.State.Strokes, in.Stroke)
	}
	return nil
})

// GuessInput and GuessResult are guess's input and result.
type GuessInput struct {
	PlayerID string `json:"playerId" validate:"required"`
	Text     string `json:"text" validate:"required,max=100"`
}

// GuessResult is guess's result.
type GuessResult struct {
	Correct bool `json:"correct"`
}

// MakeGuess records a guess; a correct one scores, ends the round and
// broadcasts correctGuess.
var MakeGuess = zocket.Method("guess", func(c *ctx, in GuessInput) (GuessResult, error) {
	s := c.State
	if s.Phase != PhaseDrawing {
		return GuessResult{}, nil
	}
	i := slices.IndexFunc(s.Players, func(p Player) bool { return p.ID == in.PlayerID })
	if i < 0 {
		return GuessResult{}, nil
	}
	p := &s.Players[i]
	correct := strings.EqualFold(strings.TrimSpace(in.Text), s.Word)
	text := in.Text
	if correct {
		text = "Guessed correctly!"
	}
	s.Guesses = append(s.Guesses, Guess{PlayerID: p.ID, Name: p.Name, Text: text, Correct: correct})
	if correct {
		p.Score += 10
		CorrectGuess.Broadcast(c, CorrectGuessed{Name: p.Name, Word: s.Word})
		s.Phase = PhaseRoundEnd
	}
	return GuessResult{Correct: correct}, nil
})

// Actor is the drawing room; register it as "draw". A player who
// disconnects is removed, and a round whose drawer left goes back to the
// lobby.
func Actor() *zocket.Actor[State, zocket.NoData] {
	return zocket.NewActor[State]().
		Initial(func() State { return State{Phase: PhaseLobby, MaxRounds: 3} }).
		Methods(Join, StartRound, Draw, MakeGuess).
		Events(CorrectGuess).
		OnDisconnect(func(c *zocket.Lifecycle[State]) error {
			s := c.State
			i := slices.IndexFunc(s.Players, func(p Player) bool { return p.ConnectionID == c.ClientID })
			if i < 0 {
				return nil
			}
			wasDrawer := s.Players[i].ID == s.DrawerID
			s.Players = slices.Delete(s.Players, i, i+1)
			if wasDrawer && s.Phase == PhaseDrawing {
				s.Phase, s.Word, s.Strokes = PhaseLobby, "", nil
			}
			return nil
		})
}
